import type { PodResources, SeedScale, Tier } from '../tiers.js';

/** Jobs one worker runs at once so that the seed's workers together run its concurrent videos. */
export function workerConcurrency(scale: SeedScale): number {
  return Math.ceil(scale.concurrentVideos / scale.workers);
}

export function cpuMillis(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity);
  if (!m) throw new Error(`invalid CPU quantity "${quantity}": expected e.g. 500m or 2`);
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
}

const MEMORY_UNITS: Record<string, number> = { Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

export function memoryMiB(quantity: string): number {
  const m = /^(\d+)(Mi|Gi|Ti)$/.exec(quantity);
  if (!m) throw new Error(`invalid memory quantity "${quantity}": expected e.g. 512Mi or 2Gi`);
  return Number(m[1]) * (MEMORY_UNITS[m[2] as string] as number);
}

/** What a node offers pods after the kubelet/system reservation (EKS reserves roughly this share). */
const NODE_ALLOCATABLE_SHARE = 0.85;

function nodesFor(pods: number, resources: PodResources, tier: Tier): number {
  const cpu = (pods * cpuMillis(resources.cpu)) / (tier.nodes.vcpu * 1000 * NODE_ALLOCATABLE_SHARE);
  const mem = (pods * memoryMiB(resources.memory)) / (tier.nodes.memoryGiB * 1024 * NODE_ALLOCATABLE_SHARE);
  return Math.max(cpu, mem);
}

export interface NodeGroupSize {
  readonly min: number;
  readonly desired: number;
  readonly max: number;
}

/**
 * Nodes of the tier's size that hold the runtime with every autoscaler at its ceiling (API HPA
 * maximum, KEDA's worker maximum) plus one surge pod of each Deployment's rolling update.
 */
export function runtimePeakNodes(tier: Tier): number {
  return Math.ceil(
    nodesFor(tier.api.maxReplicas + 1, tier.api.requests, tier) +
      nodesFor(tier.scale.workers + 1, tier.worker.requests, tier),
  );
}

/**
 * Nodes of the tier's size the runtime needs at rest: every Deployment at its minimum (API
 * replicas, KEDA's worker minimum). What Karpenter keeps running between peaks, so what the
 * monthly cost estimate counts for the NodePool (stacks/plan/cost.ts); at least one node.
 */
export function runtimeBaselineNodes(tier: Tier): number {
  return Math.max(
    1,
    Math.ceil(
      nodesFor(tier.api.replicas, tier.api.requests, tier) +
        nodesFor(tier.worker.minReplicas, tier.worker.requests, tier),
    ),
  );
}

/**
 * The managed node group is the system node group: a fixed floor of the tier's systemNodes (at
 * least one per AZ, so a zone loss never leaves it empty) that runs the platform pods and the
 * Karpenter controller, which must never run on nodes it provisions. Karpenter's NodePool adds
 * the nodes the runtime needs (planning/nodes.ts). Nothing scales this group, so min = max.
 */
export function nodeGroupSize(tier: Tier): NodeGroupSize {
  const size = Math.max(tier.network.azCount, tier.nodes.systemNodes);
  return { min: size, desired: size, max: size };
}
