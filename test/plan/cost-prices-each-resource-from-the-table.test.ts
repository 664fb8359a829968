/**
 * The monthly cost functions on hand-built inputs, without mocks: each resource's cost is a pure
 * function of its inputs (instance class, storage, node count) and the price table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  eksClusterMonthly,
  elasticacheMonthly,
  instancesMonthly,
  loadPriceTable,
  natGatewayMonthly,
  quantityGb,
  rdsInstanceMonthly,
  stackCost,
  stackRegion,
  wafMonthly,
} from '../../stacks/plan/cost.js';
import type { CostedResource, PriceTable } from '../../stacks/plan/cost.js';
import { REPO_ROOT } from '../../stacks/plan/evaluate.js';

const table: PriceTable = {
  region: 'test-1',
  currency: 'USD',
  hoursPerMonth: 730,
  asOf: '2026-11-30',
  prices: {
    'eks.clusterHour': { usd: 0.1, unit: 'h', source: 'test' },
    'ec2.instanceHour': { unit: 'h', source: 'test', byType: { 'c6i.xlarge': 0.2 } },
    'ebs.gp3GbMonth': { usd: 0.1, unit: 'GB-month', source: 'test' },
    'vpc.natGatewayHour': { usd: 0.05, unit: 'h', source: 'test' },
    'vpc.natGatewayGb': { usd: 0.05, unit: 'GB', source: 'test' },
    'vpc.publicIpv4Hour': { usd: 0.005, unit: 'h', source: 'test' },
    'rds.postgresInstanceHour': { unit: 'h', source: 'test', byType: { 'db.r7g.large': 0.25 } },
    'rds.gp3GbMonth': { usd: 0.125, unit: 'GB-month', source: 'test' },
    'elasticache.nodeHour': { unit: 'h', source: 'test', byType: { 'cache.r7g.large': 0.25 } },
    'waf.webAclMonth': { usd: 5, unit: 'month', source: 'test' },
    'waf.ruleMonth': { usd: 1, unit: 'month', source: 'test' },
    'waf.millionRequests': { usd: 0.6, unit: 'M', source: 'test' },
    'kms.keyMonth': { usd: 1, unit: 'month', source: 'test' },
    'backup.warmGbMonth': { usd: 0.1, unit: 'GB-month', source: 'test' },
  },
  usage: { natGbProcessedPerGateway: 10, wafMillionRequests: 0 },
};

const res = (type: string, name: string, inputs: Record<string, unknown>, provider = ''): CostedResource => ({
  urn: `urn:pulumi:prod::archibald::${type}::${name}`,
  type,
  name,
  inputs,
  provider,
});

test('each resource kind is priced from its inputs and the table', () => {
  assert.equal(eksClusterMonthly(table), 73);
  assert.deepEqual(instancesMonthly(table, 'c6i.xlarge', 3, 50), {
    monthlyUsd: 453,
    priced: true,
  });
  assert.equal(
    instancesMonthly(table, 'x9.huge', 1, 0).priced,
    false,
    'an unlisted type is reported, not guessed',
  );
  const single = rdsInstanceMonthly(table, {
    instanceClass: 'db.r7g.large',
    allocatedStorageGb: 100,
    multiAz: false,
  });
  const multi = rdsInstanceMonthly(table, {
    instanceClass: 'db.r7g.large',
    allocatedStorageGb: 100,
    multiAz: true,
  });
  assert.equal(single.monthlyUsd, 0.25 * 730 + 100 * 0.125);
  assert.equal(multi.monthlyUsd, 2 * single.monthlyUsd, 'Multi-AZ bills the standby and its storage');
  assert.equal(elasticacheMonthly(table, 'cache.r7g.large', 3).monthlyUsd, 3 * 0.25 * 730);
  assert.equal(natGatewayMonthly(table), 0.05 * 730 + 0.05 * 10);
  assert.equal(wafMonthly(table, 4), 9);
  assert.equal(quantityGb('50Gi'), 50);
  assert.equal(quantityGb('512Mi'), 0.5);
  assert.equal(quantityGb('1Ti'), 1024);
});

test('a stack: replicas take the primary storage, ElastiCache counts shards × (1 + replicas), lines sorted', () => {
  const cost = stackCost(
    [
      res('aws:eks/cluster:Cluster', 'eks', {}),
      res('aws:rds/instance:Instance', 'primary', {
        identifier: 'db',
        instanceClass: 'db.r7g.large',
        allocatedStorage: 100,
        multiAz: true,
      }),
      res('aws:rds/instance:Instance', 'replica', { instanceClass: 'db.r7g.large', replicateSourceDb: 'db' }),
      res('aws:elasticache/replicationGroup:ReplicationGroup', 'redis', {
        nodeType: 'cache.r7g.large',
        numNodeGroups: 1,
        replicasPerNodeGroup: 2,
      }),
      res('aws:kms/key:Key', 'key', {}),
      res('kubernetes:karpenter.sh/v1:NodePool', 'pool', {
        metadata: {
          annotations: {
            'archibald.io/expected-nodes': '2',
            'archibald.io/expected-instance-type': 'c6i.xlarge',
          },
        },
      }),
      res('kubernetes:core/v1:PersistentVolumeClaim', 'pvc', {
        spec: { resources: { requests: { storage: '10Gi' } } },
      }),
      res('aws:iam/role:Role', 'role', {}),
    ],
    table,
  );
  const by = Object.fromEntries(cost.lines.map((l) => [l.name, l.monthlyUsd]));
  assert.equal(by.replica, 0.25 * 730 + 100 * 0.125);
  assert.equal(by.redis, 547.5);
  assert.equal(by.pool, 2 * 0.2 * 730);
  assert.equal(by.pvc, 1);
  assert.equal(by.role, undefined, 'IAM costs nothing');
  assert.deepEqual(
    cost.lines.map((l) => l.monthlyUsd),
    [...cost.lines.map((l) => l.monthlyUsd)].sort((a, b) => b - a),
  );
  assert.equal(cost.monthlyUsd, Math.round(cost.lines.reduce((s, l) => s + l.monthlyUsd, 0) * 100) / 100);
});

test('a price change moves the estimate by exactly its share', () => {
  const db = [
    res('aws:rds/instance:Instance', 'primary', { instanceClass: 'db.r7g.large', allocatedStorage: 100 }),
  ];
  const before = stackCost(db, table).monthlyUsd;
  const dearer: PriceTable = {
    ...table,
    prices: { ...table.prices, 'rds.gp3GbMonth': { usd: 0.2, unit: 'GB-month', source: 'test' } },
  };
  assert.equal(Math.round((stackCost(db, dearer).monthlyUsd - before) * 100) / 100, 7.5);
});

test("the stack's region is the AWS provider most resources use; no AWS provider, no cost", () => {
  const aws = res('pulumi:providers:aws', 'aws', { region: 'eu-west-1' });
  const dr = res('pulumi:providers:aws', 'aws-dr', { region: 'eu-central-1' });
  assert.equal(
    stackRegion([
      dr,
      aws,
      res('aws:kms/key:Key', 'a', {}, aws.urn),
      res('aws:kms/key:Key', 'b', {}, aws.urn),
    ]),
    'eu-west-1',
  );
  assert.equal(stackRegion([res('kubernetes:core/v1:Namespace', 'ns', {})]), null);
});

test('the repository table has a source and a price for every key the estimate uses', () => {
  const real = loadPriceTable(REPO_ROOT, 'eu-west-1');
  assert.ok(real, 'stacks/pricing/aws-eu-west-1.json');
  assert.match(real.asOf, /^\d{4}-\d{2}-\d{2}$/);
  for (const key of Object.keys(table.prices)) {
    const p = real.prices[key];
    assert.ok(p, key);
    assert.match(p.source, /^https:\/\/aws\.amazon\.com\//, `${key} names its AWS pricing page`);
    assert.ok(p.usd !== undefined || Object.keys(p.byType ?? {}).length > 0, key);
  }
  for (const t of ['c6i.xlarge', 't3.medium']) assert.ok(real.prices['ec2.instanceHour']?.byType?.[t], t);
  for (const t of ['db.t4g.large', 'db.r7g.large'])
    assert.ok(real.prices['rds.postgresInstanceHour']?.byType?.[t], t);
  for (const t of ['cache.t4g.medium', 'cache.r7g.large'])
    assert.ok(real.prices['elasticache.nodeHour']?.byType?.[t], t);
});
