import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { nodeGroupSize } from '../../stacks/planning/capacity.js';
import { TIERS } from '../../stacks/tiers.js';
import { at, countByType, evaluateStack, ofType, one } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertEverythingParented,
  assertExplicitProviders,
  assertMetricsServer,
  assertMonitoring,
  assertNodeAutoscaler,
  assertRuntime,
  NODE_AUTOSCALER_INVENTORY,
  nodeAutoscalerInventory,
} from './inventory.js';
import {
  assertEveryIngressIsServed,
  assertExposureInventory,
  assertHttpsEndpoints,
  assertLoadBalancerController,
  assertLoadBalancerReachesPods,
} from './exposure.js';

const tier = TIERS.staging;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('staging');
});

test('staging evaluates with no unknown resource type or invoke', () => {
  assert.deepEqual(e.unknownTypes, []);
  assert.deepEqual(e.unknownCalls, []);
  assertEverythingParented(e);
  assertExplicitProviders(e);
  assert.equal(countByType(e)['archibald:backups:Backups'], 1);
});

test('staging network: 2 AZs and a single NAT gateway', () => {
  assert.equal(ofType(e, 'aws:ec2/subnet:Subnet').length, 4);
  assert.equal(ofType(e, 'aws:ec2/natGateway:NatGateway').length, 1);
  assert.equal(one(e, 'aws:ec2/vpc:Vpc').inputs.cidrBlock, tier.network.vpcCidr);
});

test('staging pushes to its own image repository: prod in the same account never collides with it', () => {
  assert.equal(one(e, 'aws:ecr/repository:Repository').inputs.name, 'archibald/staging');
});

test('staging sizes: node group, one Redis shard with a replica, one read replica, single-AZ primary', () => {
  const size = nodeGroupSize(tier);
  assert.deepEqual(one(e, 'aws:eks/nodeGroup:NodeGroup').inputs.scalingConfig, {
    minSize: size.min,
    desiredSize: size.desired,
    maxSize: size.max,
  });
  const group = one(e, 'aws:elasticache/replicationGroup:ReplicationGroup');
  assert.deepEqual(
    [group.inputs.numNodeGroups, group.inputs.replicasPerNodeGroup, group.inputs.multiAzEnabled],
    [1, 1, false],
  );
  const instances = ofType(e, 'aws:rds/instance:Instance');
  assert.equal(instances.length, 2);
  const primary = instances.find((i) => !i.inputs.replicateSourceDb);
  assert.equal(primary?.inputs.multiAz, false);
  assert.equal(primary?.inputs.instanceClass, tier.postgres.instanceClass);
});

test('staging Vault: HA raft with KMS auto-unseal, configured with the stack token', () => {
  const vault = ofType(e, 'kubernetes:helm.sh/v3:Release').find((r) => r.inputs.chart === 'vault');
  assert.equal(at(vault?.inputs, 'values.server.ha.enabled'), true);
  assert.equal(at(vault?.inputs, 'values.server.ha.replicas'), tier.vault.replicas);
  assert.equal(vault?.inputs.skipAwait, true, 'sealed pods before init must not fail the first up');
  assert.equal(
    ofType(e, 'kubernetes:batch/v1:Job').filter((j) =>
      String(at(j.inputs, 'metadata.name')).startsWith('vault-configure-'),
    ).length,
    1,
  );
  assert.deepEqual(e.outputs.vaultConfigured, { value: true, secret: false });
});

test('staging monitoring and runtime follow the tier', () => {
  assertMonitoring(e, tier);
  assertRuntime(e, tier);
  const data = at(
    ofType(e, 'kubernetes:core/v1:ConfigMap').find(
      (c) => at(c.inputs, 'metadata.name') === 'archibald-config',
    )?.inputs,
    'data',
  ) as Record<string, string>;
  assert.equal(data.REDIS_TLS, 'true');
  assert.match(data.REDIS_CLUSTER_NODES ?? '', /^clustercfg\..+:6379$/);
  assert.equal(data.S3_BUCKET, 'archibald-staging-videos-123456789012');
  assert.equal(data.CDN_BASE_URL, 'https://cdn.staging.archibald.example.com');
  assert.equal(data.ANTHROPIC_API_KEY_FILE, '/vault/secrets/anthropic-api-key');
  // With a key, the tier's script models and per-video budget.
  assert.equal(data.SCRIPT_MODEL_CHEAP, tier.scripts.cheapModel);
  assert.equal(data.SCRIPT_MODEL_PREMIUM, tier.scripts.premiumModel);
  assert.equal(data.VIDEO_BUDGET_USD, String(tier.scripts.videoBudgetUsd));
});

test('staging nodes: Karpenter scales nodes from the tier, metrics-server feeds the CPU HPA', () => {
  assert.equal(countByType(e)['archibald:nodes:NodeAutoscaler'], 1);
  assert.equal(countByType(e)['archibald:metrics:MetricsServer'], 1);
  assert.deepEqual(nodeAutoscalerInventory(e), NODE_AUTOSCALER_INVENTORY);
  assertNodeAutoscaler(e, tier, 'archibald-staging');
  assertMetricsServer(e, tier, false);
});

test('staging exposure: HTTPS API and Grafana on the ALB of the AWS Load Balancer Controller', () => {
  assert.equal(assertEveryIngressIsServed(e), 2);
  assertExposureInventory(e);
  assertLoadBalancerController(e, tier, 'eu-west-1');
  assertHttpsEndpoints(e, 'staging.archibald.example.com');
  assertLoadBalancerReachesPods(e);
});
