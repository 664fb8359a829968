import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerConcurrency, cpuMillis, memoryMiB, nodeGroupSize } from '../../stacks/planning/capacity.js';
import { nodePoolLimits } from '../../stacks/planning/nodes.js';
import { apiScaling, workerScaling } from '../../stacks/planning/scaling.js';
import { TIERS, TIER_NAMES } from '../../stacks/tiers.js';

test('the seed scale table gives each tier its workers and concurrent videos', () => {
  const expected = { dev: [2, 5], staging: [5, 15], prod: [10, 50], enterprise: [20, 100] } as const;
  for (const name of TIER_NAMES) {
    const { workers, concurrentVideos } = TIERS[name].scale;
    assert.deepEqual([workers, concurrentVideos], expected[name], name);
    const scaling = workerScaling(TIERS[name]);
    assert.equal(scaling.maxReplicas, workers, `${name}: worker max replicas come from the seed's workers`);
    assert.ok(
      scaling.maxReplicas * scaling.concurrency >= concurrentVideos,
      `${name}: all workers together run the seed's concurrent videos`,
    );
    assert.ok(
      (scaling.maxReplicas - 1) * scaling.concurrency < concurrentVideos,
      `${name}: no spare worker at the ceiling`,
    );
  }
});

test('worker concurrency rounds up so the fleet never runs fewer videos than the seed', () => {
  assert.equal(workerConcurrency({ name: 'low', workers: 2, concurrentVideos: 5 }), 3);
  assert.equal(workerConcurrency({ name: 'medium', workers: 5, concurrentVideos: 15 }), 3);
  assert.equal(workerConcurrency({ name: 'high', workers: 10, concurrentVideos: 50 }), 5);
  assert.equal(workerConcurrency({ name: 'enterprise', workers: 20, concurrentVideos: 100 }), 5);
});

test('nodes follow the resource allocation table (dev 2/4/20, production 4/8/50, enterprise 8/16/200)', () => {
  const row = (n: (typeof TIER_NAMES)[number]): number[] => [
    TIERS[n].nodes.vcpu,
    TIERS[n].nodes.memoryGiB,
    TIERS[n].nodes.diskGiB,
  ];
  assert.deepEqual(row('dev'), [2, 4, 20]);
  assert.deepEqual(row('staging'), [4, 8, 50]);
  assert.deepEqual(row('prod'), [4, 8, 50]);
  assert.deepEqual(row('enterprise'), [8, 16, 200]);
});

test('prod runs 3 API replicas with the orchestrator requests and limits', () => {
  const api = TIERS.prod.api;
  assert.equal(api.replicas, 3);
  assert.deepEqual(api.requests, { cpu: '1000m', memory: '2Gi' });
  assert.deepEqual(api.limits, { cpu: '2000m', memory: '4Gi' });
  assert.deepEqual(TIERS.dev.api.requests, { cpu: '500m', memory: '512Mi' });
  assert.deepEqual(TIERS.dev.api.limits, { cpu: '2000m', memory: '2Gi' });
});

test('requests never exceed limits and a pod fits on one node in every tier', () => {
  for (const tier of Object.values(TIERS)) {
    for (const role of [tier.api, tier.worker]) {
      assert.ok(cpuMillis(role.requests.cpu) <= cpuMillis(role.limits.cpu), tier.name);
      assert.ok(memoryMiB(role.requests.memory) <= memoryMiB(role.limits.memory), tier.name);
      assert.ok(cpuMillis(role.limits.cpu) <= tier.nodes.vcpu * 1000, `${tier.name}: limit fits a node`);
      assert.ok(
        memoryMiB(role.limits.memory) <= tier.nodes.memoryGiB * 1024,
        `${tier.name}: limit fits a node`,
      );
    }
  }
});

test('quantity parsing rejects what Kubernetes would not mean', () => {
  assert.equal(cpuMillis('2'), 2000);
  assert.equal(cpuMillis('250m'), 250);
  assert.equal(memoryMiB('2Gi'), 2048);
  assert.throws(() => cpuMillis('two'), /invalid CPU quantity "two"/);
  assert.throws(() => memoryMiB('2GB'), /invalid memory quantity "2GB"/);
});

test('the system node group holds the tier systemNodes, one per AZ; Karpenter holds every autoscaler ceiling', () => {
  for (const tier of Object.values(TIERS)) {
    const size = nodeGroupSize(tier);
    assert.ok(size.min >= tier.network.azCount, `${tier.name}: at least one node per AZ`);
    assert.ok(size.min >= tier.nodes.systemNodes, `${tier.name}: the tier's system nodes`);
    assert.deepEqual([size.desired, size.max], [size.min, size.min], `${tier.name}: a fixed floor`);
    const peakCpu =
      tier.api.maxReplicas * cpuMillis(tier.api.requests.cpu) +
      tier.scale.workers * cpuMillis(tier.worker.requests.cpu);
    const limits = nodePoolLimits(tier);
    assert.ok(
      Number(limits.cpu) * 1000 >= peakCpu,
      `${tier.name}: the NodePool's ${limits.cpu} vCPUs hold ${peakCpu}m of requests`,
    );
  }
  // Larger tiers never get a lower ceiling (same instance family in staging and prod).
  assert.ok(nodePoolLimits(TIERS.prod).nodes > nodePoolLimits(TIERS.staging).nodes);
});

test('API autoscaling starts at the tier replicas and the budget keeps all but one', () => {
  const prod = apiScaling(TIERS.prod);
  assert.deepEqual([prod.minReplicas, prod.maxReplicas, prod.minAvailable], [3, 9, 2]);
  assert.equal(apiScaling(TIERS.dev).minAvailable, 0);
});

test('worker scaling reads the backlog states of the catalog metric', () => {
  const s = workerScaling(TIERS.prod);
  assert.match(
    s.query,
    /^max\(sum by \(pod\) \(archibald_queue_jobs\{namespace="archibald", state=~"waiting\|prioritized\|delayed"\}\)\)$/,
    'the backlog of this deployment only, counted once however many API replicas report it',
  );
  assert.equal(s.jobsPerReplica, s.concurrency);
  assert.throws(
    () => workerScaling({ ...TIERS.prod, worker: { ...TIERS.prod.worker, minReplicas: 11 } }),
    /worker minReplicas 11 must be between 1 and 10/,
  );
});
