import { metricCatalog } from '../../runtime/contract/metrics.js';
import type { Tier } from '../tiers.js';
import { RUNTIME_NAMESPACE } from '../vault-access.js';
import { workerConcurrency } from './capacity.js';

/** Queue states that mean "work not yet picked up": what more workers would drain. */
export const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed'] as const;

export interface WorkerScaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly concurrency: number;
  /** Backlog jobs per worker replica KEDA aims for. */
  readonly jobsPerReplica: number;
  readonly query: string;
}

export function workerScaling(tier: Tier): WorkerScaling {
  const maxReplicas = tier.scale.workers;
  if (tier.worker.minReplicas < 1 || tier.worker.minReplicas > maxReplicas) {
    throw new Error(
      `tier ${tier.name}: worker minReplicas ${tier.worker.minReplicas} must be between 1 and ${maxReplicas}`,
    );
  }
  const concurrency = workerConcurrency(tier.scale);
  const states = BACKLOG_STATES.join('|');
  return {
    minReplicas: tier.worker.minReplicas,
    maxReplicas,
    concurrency,
    // One replica per `concurrency` waiting jobs: each new worker takes that many at once.
    jobsPerReplica: concurrency,
    // max(): every API replica reports the same queue, so summing would count it once per replica.
    // The namespace keeps another deployment scraped by the same Prometheus out of the decision.
    query: `max(sum by (pod) (${metricCatalog.queueJobs.name}{namespace="${RUNTIME_NAMESPACE}", state=~"${states}"}))`,
  };
}

export interface ApiScaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuTargetPercent: number;
  /** PodDisruptionBudget: keep all but one replica during voluntary disruptions. */
  readonly minAvailable: number;
}

export function apiScaling(tier: Tier): ApiScaling {
  return {
    minReplicas: tier.api.replicas,
    maxReplicas: tier.api.maxReplicas,
    cpuTargetPercent: tier.api.cpuTargetPercent,
    minAvailable: Math.max(tier.api.replicas - 1, tier.api.replicas > 1 ? 1 : 0),
  };
}
