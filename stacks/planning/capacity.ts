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
 * Node group bounds: the minimum fits the baseline (API replicas, minimum workers) plus the
 * system nodes; the maximum fits every autoscaler at its ceiling. At least one node per AZ so a
 * zone loss never leaves the group empty.
 */
export function nodeGroupSize(tier: Tier): NodeGroupSize {
  const baseline =
    nodesFor(tier.api.replicas, tier.api.requests, tier) +
    nodesFor(tier.worker.minReplicas, tier.worker.requests, tier);
  const peak =
    nodesFor(tier.api.maxReplicas, tier.api.requests, tier) +
    nodesFor(tier.scale.workers, tier.worker.requests, tier);
  const min = Math.max(tier.network.azCount, Math.ceil(baseline) + tier.nodes.systemNodes);
  const max = Math.max(min, Math.ceil(peak) + tier.nodes.systemNodes);
  return { min, desired: min, max };
}
