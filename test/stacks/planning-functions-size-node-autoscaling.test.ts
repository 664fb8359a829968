import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeGroupSize, runtimeBaselineNodes, runtimePeakNodes } from '../../stacks/planning/capacity.js';
import {
  instanceShape,
  nodePoolDisruption,
  nodePoolLimits,
  nodePoolRequirements,
} from '../../stacks/planning/nodes.js';
import { TIERS } from '../../stacks/tiers.js';
import type { Tier } from '../../stacks/tiers.js';

const seconds = (duration: string): number => {
  const m = /^(\d+)s$/.exec(duration);
  assert.ok(m, `${duration} is written in seconds`);
  return Number(m[1]);
};

test('instance types name their category, generation and architecture', () => {
  assert.deepEqual(instanceShape('c6i.xlarge'), { category: 'c', generation: 6, arch: 'amd64' });
  assert.deepEqual(instanceShape('c7g.2xlarge'), { category: 'c', generation: 7, arch: 'arm64' });
  assert.deepEqual(instanceShape('m6gd.large'), { category: 'm', generation: 6, arch: 'arm64' });
  assert.deepEqual(instanceShape('t4g.medium'), { category: 't', generation: 4, arch: 'arm64' });
  assert.deepEqual(instanceShape('c5n.large'), { category: 'c', generation: 5, arch: 'amd64' });
  assert.throws(() => instanceShape('xlarge'), /invalid EC2 instance type "xlarge"/);
});

test('the NodePool launches the tier instance family, its generation or newer, its size or one up, on-demand', () => {
  assert.deepEqual(nodePoolRequirements(TIERS.prod), [
    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
    { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['c'] },
    { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: ['5'] },
    { key: 'karpenter.k8s.aws/instance-cpu', operator: 'In', values: ['4', '8'] },
  ]);
  const graviton: Tier = {
    ...TIERS.prod,
    nodes: { ...TIERS.prod.nodes, instanceType: 'm7g.2xlarge', vcpu: 8, memoryGiB: 32 },
  };
  const values = (key: string): string[] =>
    nodePoolRequirements(graviton).find((r) => r.key === key)?.values ?? [];
  assert.deepEqual(values('kubernetes.io/arch'), ['arm64']);
  assert.deepEqual(values('karpenter.k8s.aws/instance-category'), ['m']);
  assert.deepEqual(values('karpenter.k8s.aws/instance-generation'), ['6']);
  assert.deepEqual(values('karpenter.k8s.aws/instance-cpu'), ['8', '16']);
});

test('NodePool limits hold every runtime autoscaler at its ceiling plus a replacement node', () => {
  assert.deepEqual(nodePoolLimits(TIERS.prod), { nodes: 8, cpu: '32', memory: '64Gi' });
  assert.deepEqual(nodePoolLimits(TIERS.staging), { nodes: 3, cpu: '12', memory: '24Gi' });
  for (const tier of Object.values(TIERS)) {
    const limits = nodePoolLimits(tier);
    assert.equal(limits.nodes, runtimePeakNodes(tier) + 1, tier.name);
    assert.equal(Number(limits.cpu), limits.nodes * tier.nodes.vcpu, tier.name);
    assert.equal(limits.memory, `${limits.nodes * tier.nodes.memoryGiB}Gi`, tier.name);
  }
  // More workers at the ceiling raise the limit; the limit follows the tier, not a constant.
  const busier: Tier = { ...TIERS.prod, scale: { ...TIERS.prod.scale, workers: 40 } };
  assert.ok(nodePoolLimits(busier).nodes > nodePoolLimits(TIERS.prod).nodes);
});

test('disruption lets a worker finish a job and its shutdown before a node goes, one node at a time', () => {
  assert.deepEqual(nodePoolDisruption(TIERS.prod), {
    consolidationPolicy: 'WhenEmptyOrUnderutilized',
    consolidateAfter: '600s',
    budgets: [{ nodes: '1' }],
    expireAfter: '720h',
    terminationGracePeriod: '1830s',
  });
  assert.equal(nodePoolDisruption(TIERS.staging).consolidateAfter, '300s');
  for (const tier of Object.values(TIERS)) {
    const d = nodePoolDisruption(tier);
    assert.ok(
      seconds(d.terminationGracePeriod) >=
        tier.worker.jobTimeoutSeconds + tier.worker.shutdownGraceSeconds + 30,
      `${tier.name}: a full job timeout plus the worker pod's grace`,
    );
    assert.ok(seconds(d.consolidateAfter) >= 300, `${tier.name}: no faster than KEDA's cooldown`);
  }
});

test('the system node group is a fixed floor of the tier system nodes, at least one per AZ', () => {
  assert.deepEqual(nodeGroupSize(TIERS.prod), { min: 3, desired: 3, max: 3 });
  assert.deepEqual(nodeGroupSize(TIERS.staging), { min: 2, desired: 2, max: 2 });
  const oneSystemNode: Tier = { ...TIERS.prod, nodes: { ...TIERS.prod.nodes, systemNodes: 1 } };
  assert.equal(nodeGroupSize(oneSystemNode).min, TIERS.prod.network.azCount);
});

test('the runtime at rest (what the cost estimate counts for the NodePool) fits under its peak', () => {
  for (const tier of Object.values(TIERS)) {
    const atRest = runtimeBaselineNodes(tier);
    assert.ok(atRest >= 1, tier.name);
    assert.ok(
      atRest <= runtimePeakNodes(tier),
      `${tier.name}: ${atRest} at rest, ${runtimePeakNodes(tier)} at peak`,
    );
  }
  assert.equal(runtimeBaselineNodes(TIERS.staging), 1);
  assert.equal(runtimeBaselineNodes(TIERS.prod), 2);
});
