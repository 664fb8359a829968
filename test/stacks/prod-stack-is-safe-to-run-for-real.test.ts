/**
 * What keeps a real `pulumi up -s prod` from acting in the wrong account, opening the cluster to
 * the internet, colliding with another stack's names or destroying data by accident: each check
 * here failed on the stacks before these guards existed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { CLUSTER_ADMIN_POLICY } from '../../stacks/components/cluster.js';
import { TIERS } from '../../stacks/tiers.js';
import { at, evaluateStack, ofType, one } from './harness.js';
import type { Evaluation, RegisteredResource } from './harness.js';

const tier = TIERS.prod;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('prod', { configOverrides: { 'aws:profile': 'archibald-prod' } });
});

const env = (d: RegisteredResource): Record<string, string> =>
  Object.fromEntries(
    (at(d.inputs, 'spec.template.spec.containers.0.env') as { name: string; value: string }[]).map((v) => [
      v.name,
      v.value,
    ]),
  );

test('every AWS provider may act only in the stack account, with the operator profile', () => {
  const providers = ofType(e, 'pulumi:providers:aws');
  assert.deepEqual(providers.map((p) => p.name).sort(), ['aws', 'aws-dr', 'aws-us-east-1']);
  for (const p of providers) {
    assert.deepEqual(p.inputs.allowedAccountIds, JSON.stringify(['123456789012']), `${p.name} account`);
    assert.equal(p.inputs.profile, 'archibald-prod', `${p.name} uses aws:profile`);
  }
});

test('the EKS API answers only the configured ranges, and the admin roles get access entries', () => {
  const cluster = one(e, 'aws:eks/cluster:Cluster');
  assert.equal(at(cluster.inputs, 'vpcConfig.endpointPublicAccess'), true);
  assert.deepEqual(at(cluster.inputs, 'vpcConfig.publicAccessCidrs'), ['203.0.113.0/24', '198.51.100.17/32']);
  const entries = ofType(e, 'aws:eks/accessEntry:AccessEntry');
  const admins = [
    'arn:aws:iam::123456789012:role/archibald-platform-admin',
    'arn:aws:iam::123456789012:role/archibald-ci-deploy',
  ];
  assert.deepEqual(
    entries.filter((a) => a.inputs.type === 'STANDARD').map((a) => a.inputs.principalArn),
    admins,
  );
  const associations = ofType(e, 'aws:eks/accessPolicyAssociation:AccessPolicyAssociation');
  assert.deepEqual(
    associations.map((a) => [a.inputs.principalArn, a.inputs.policyArn, at(a.inputs, 'accessScope.type')]),
    admins.map((arn) => [arn, CLUSTER_ADMIN_POLICY, 'cluster']),
  );
  const k8s = one(e, 'pulumi:providers:kubernetes');
  for (const a of associations)
    assert.ok(k8s.dependencies.includes(a.urn), 'Kubernetes resources wait for the admins to be admitted');
});

test('the image repository and the buckets carry names no other stack or account can hold', () => {
  assert.equal(one(e, 'aws:ecr/repository:Repository').inputs.name, 'archibald/prod');
  const buckets = ofType(e, 'aws:s3/bucket:Bucket').map((b) => String(b.inputs.bucket));
  assert.ok(buckets.length >= 4);
  for (const b of buckets) assert.match(b, /^archibald-prod-[a-z-]+-123456789012$/);
});

test('stateful and foundational resources are protected', () => {
  const protectedTypes = [
    'aws:eks/cluster:Cluster',
    'aws:ec2/vpc:Vpc',
    'aws:kms/key:Key',
    'aws:backup/vault:Vault',
    'aws:elasticache/replicationGroup:ReplicationGroup',
  ];
  for (const type of protectedTypes) {
    const all = ofType(e, type);
    assert.ok(all.length > 0, type);
    for (const r of all) assert.equal(r.protect, true, `${type} ${r.name} is protected`);
  }
  const primary = ofType(e, 'aws:rds/instance:Instance').find((i) => !i.inputs.replicateSourceDb);
  assert.equal(primary?.protect, true, 'the RDS primary is protected');
  const videos = ofType(e, 'aws:s3/bucket:Bucket').find((b) => b.name === 'cdn-assets');
  assert.equal(videos?.protect, true, 'the videos bucket is protected');
  assert.equal(tier.protectResources, true);
});

test('Redis: one shard with the tier replicas, and an exporter on every node, never the configuration endpoint', () => {
  const group = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.equal(group.inputs.numNodeGroups, 1);
  const exporters = ofType(e, 'kubernetes:apps/v1:Deployment').filter((d) =>
    String(at(d.inputs, 'metadata.name')).startsWith('redis-exporter-'),
  );
  assert.equal(exporters.length, 1 + tier.redis.replicasPerShard);
  const addresses = exporters.map((d) => env(d).REDIS_ADDR ?? '');
  assert.equal(new Set(addresses).size, exporters.length, 'one node each');
  for (const address of addresses) {
    assert.match(
      address,
      /^rediss:\/\/archibald-prod-redis-0001-00[1-3]\.archibald-prod-redis\.[a-f0-9]+\.euwe\.cache\.amazonaws\.com:6379$/,
    );
    assert.doesNotMatch(address, /clustercfg/);
  }
});
