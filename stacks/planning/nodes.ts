/**
 * Node autoscaling sized from the tier table: the Karpenter NodePool's instance requirements,
 * limits and disruption settings. Pure functions, so the rules are tested without a cluster.
 */
import type { Tier } from '../tiers.js';
import { runtimePeakNodes } from './capacity.js';

/** What an EC2 instance type name says about the instances Karpenter may pick in its place. */
export interface InstanceShape {
  /** Karpenter's `karpenter.k8s.aws/instance-category`: c, m, r, t, ... */
  readonly category: string;
  /** Karpenter's `karpenter.k8s.aws/instance-generation`. */
  readonly generation: number;
  /** `kubernetes.io/arch`: Graviton families carry a "g" in their attributes (c7g, m6gd, t4g). */
  readonly arch: 'amd64' | 'arm64';
}

export function instanceShape(instanceType: string): InstanceShape {
  const m = /^([a-z]+?)(\d+)([a-z-]*)\.[a-z0-9]+$/.exec(instanceType);
  if (!m) throw new Error(`invalid EC2 instance type "${instanceType}": expected e.g. c6i.xlarge`);
  const [, category, generation, attributes] = m as unknown as [string, string, string, string];
  return { category, generation: Number(generation), arch: attributes.includes('g') ? 'arm64' : 'amd64' };
}

export interface NodeRequirement {
  readonly key: string;
  readonly operator: 'In' | 'Gt';
  readonly values: string[];
}

/**
 * The instances the NodePool may launch: the tier's instance category and architecture, its
 * generation or newer, its size or one size up (twice the vCPUs), Linux, on-demand. Spot is left
 * out on purpose: a reclaim gives two minutes' notice, less than a worker's shutdown grace, so a
 * video in flight would be cut off and rendered again.
 */
export function nodePoolRequirements(tier: Tier): NodeRequirement[] {
  const shape = instanceShape(tier.nodes.instanceType);
  return [
    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
    { key: 'kubernetes.io/arch', operator: 'In', values: [shape.arch] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
    { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: [shape.category] },
    { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: [String(shape.generation - 1)] },
    {
      key: 'karpenter.k8s.aws/instance-cpu',
      operator: 'In',
      values: [String(tier.nodes.vcpu), String(tier.nodes.vcpu * 2)],
    },
  ];
}

/** One node beyond the peak: consolidation and drift launch a replacement before the old node drains. */
const REPLACEMENT_NODES = 1;

export interface NodePoolLimits {
  /** Nodes of the tier's size the limits amount to. */
  readonly nodes: number;
  /** Total vCPUs of all nodes the pool may run (Karpenter's `limits.cpu`). */
  readonly cpu: string;
  readonly memory: string;
}

/**
 * The pool's ceiling: every runtime autoscaler at its maximum plus a rolling update's surge pod
 * (runtimePeakNodes), and one replacement node. Platform pods live on the system node group,
 * which is not counted here. The limit is a cost guard: past it Karpenter launches nothing more.
 */
export function nodePoolLimits(tier: Tier): NodePoolLimits {
  const nodes = runtimePeakNodes(tier) + REPLACEMENT_NODES;
  return { nodes, cpu: String(nodes * tier.nodes.vcpu), memory: `${nodes * tier.nodes.memoryGiB}Gi` };
}

/** Karpenter's own default node lifetime (30 days), written out so a review sees it. */
const NODE_LIFETIME = '720h';
/** Scale-down waits at least KEDA's cooldown (runtime.ts) before a node counts as spare. */
const MIN_CONSOLIDATE_AFTER_SECONDS = 300;

export interface NodePoolDisruption {
  readonly consolidationPolicy: 'WhenEmptyOrUnderutilized';
  readonly consolidateAfter: string;
  /** At most this many nodes disrupted voluntarily at once. */
  readonly budgets: { nodes: string }[];
  readonly expireAfter: string;
  readonly terminationGracePeriod: string;
}

/**
 * How Karpenter may take nodes away without killing long video jobs. Workers carry
 * `karpenter.sh/do-not-disrupt`, so consolidation never drains a node a worker runs on; only
 * expiry and drift (forceful once terminationGracePeriod is set) can. That grace is one full job
 * timeout plus the worker pod's own termination grace (shutdownGraceSeconds + 30, runtime.ts):
 * Karpenter deletes a do-not-disrupt pod only when the pod's grace would otherwise not fit, so a
 * worker keeps rendering for a job timeout after its node starts draining, then stops cleanly.
 */
export function nodePoolDisruption(tier: Tier): NodePoolDisruption {
  const workerPodGrace = tier.worker.shutdownGraceSeconds + 30;
  return {
    consolidationPolicy: 'WhenEmptyOrUnderutilized',
    consolidateAfter: `${Math.max(MIN_CONSOLIDATE_AFTER_SECONDS, tier.worker.shutdownGraceSeconds)}s`,
    budgets: [{ nodes: '1' }],
    expireAfter: NODE_LIFETIME,
    terminationGracePeriod: `${tier.worker.jobTimeoutSeconds + workerPodGrace}s`,
  };
}
