/**
 * Alert definitions. Page (critical) on what users feel — failing videos, a stuck pipeline, the
 * API's objectives burning, Vault sealed — and ticket (warning) on causes and early signs.
 */
import { metricCatalog } from '../../runtime/contract/metrics.js';
import { exporters } from '../exporters.js';
import { backupJobNamePattern, scrapeJobs } from '../conventions.js';
import { apiSlo, sli } from './slis.js';
import type { SloWindow } from './slis.js';
import type { AlertDefinition, Severity } from './types.js';

const m = metricCatalog;
const x = exporters;

/** Alert thresholds; cost per video and success rate are the seeds'. */
export const thresholds = {
  costPerVideoUsd: 0.1,
  successRatio: 0.9,
  workerBusyRatio: 0.9,
  redisMemoryRatio: 0.9,
  replicaLagSeconds: 30,
} as const;

/** One multi-window burn-rate condition: both windows must burn faster than `factor`. */
interface BurnWindowPair {
  factor: number;
  long: SloWindow;
  short: SloWindow;
}

/** Google SRE workbook, chapter "Alerting on SLOs": page on fast burns, ticket on slow ones. */
export const burnRatePolicy: Record<Severity, { pairs: BurnWindowPair[]; for: string }> = {
  critical: {
    pairs: [
      { factor: 14.4, long: '1h', short: '5m' },
      { factor: 6, long: '6h', short: '30m' },
    ],
    for: '2m',
  },
  warning: {
    pairs: [
      { factor: 3, long: '1d', short: '2h' },
      { factor: 1, long: '3d', short: '6h' },
    ],
    for: '15m',
  },
};

function burnExpr(ratio: (w: SloWindow) => string, budget: number, severity: Severity): string {
  return burnRatePolicy[severity].pairs
    .map(
      (p) => `(
  ${ratio(p.short)} > (${p.factor} * ${budget})
  and
  ${ratio(p.long)} > (${p.factor} * ${budget})
)`,
    )
    .join('\nor\n');
}

const burnDescription: Record<Severity, string> = {
  critical: 'at 6 times its sustainable rate or faster: at this pace the 30-day budget is gone within 5 days',
  warning: 'faster than it can sustain: at this pace the 30-day budget is gone before the 30 days are over',
};

function burnAlerts(
  alert: string,
  ratio: (w: SloWindow) => string,
  budget: number,
  objective: string,
  summary: string,
): AlertDefinition[] {
  return (['critical', 'warning'] as const).map((severity) => ({
    alert,
    expr: burnExpr(ratio, budget, severity),
    for: burnRatePolicy[severity].for,
    labels: { severity },
    annotations: {
      summary,
      description: `The API in {{ $labels.namespace }} is spending the error budget of its ${objective} objective ${burnDescription[severity]}.`,
    },
  }));
}

const finished = m.videosFinished.name;
const archibaldJobs = `${scrapeJobs.api}|${scrapeJobs.worker}`;

export const alertDefinitions: AlertDefinition[] = [
  {
    alert: 'HighCostPerVideo',
    expr: `${sli.costPerVideo} > ${thresholds.costPerVideoUsd}`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'Video cost exceeding threshold',
      description:
        'Provider spend in {{ $labels.namespace }} over the last 5 minutes came to {{ printf "%.3f" $value }} USD per completed video (failed and retried attempts included), above the 0.10 USD budget per video.',
    },
  },
  {
    alert: 'LowSuccessRate',
    expr: `${sli.successRatio} < ${thresholds.successRatio}`,
    for: '10m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'Success rate below 90%',
      description:
        'Only {{ $value | humanizePercentage }} of the videos that finished in {{ $labels.namespace }} over the last 10 minutes completed; the rest failed.',
    },
  },
  ...burnAlerts(
    'ApiErrorBudgetBurn',
    sli.apiErrorRatio,
    apiSlo.availabilityErrorBudget,
    '99.9% availability',
    'API requests are failing with 5xx errors',
  ),
  ...burnAlerts(
    'ApiLatencyBudgetBurn',
    sli.apiSlowRatio,
    apiSlo.latencyErrorBudget,
    'latency (95% of requests within 200 ms)',
    'API requests are slower than 200 ms',
  ),
  {
    alert: 'QueueBacklogGrowing',
    expr: `deriv(${sli.queueJobs}{state="waiting"}[15m]) > 0
and on (namespace)
${sli.workerBusyRatio} >= ${thresholds.workerBusyRatio}`,
    for: '15m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'Video queue backlog is growing while the workers are busy',
      description:
        'Waiting jobs in {{ $labels.namespace }} have kept growing for at least 15 minutes while the workers use 90% or more of their concurrency: demand exceeds capacity.',
    },
  },
  {
    alert: 'NoVideoCompleted',
    expr: `${sli.queueJobs}{state="waiting"} > 0
unless on (namespace)
sum by (namespace) (increase(${finished}{outcome="completed"}[15m])) > 0`,
    for: '10m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'No video completed while jobs are waiting',
      description:
        '{{ $value }} jobs wait in the queue of {{ $labels.namespace }} and no video has completed for 25 minutes.',
    },
  },
  {
    alert: 'ArchibaldTargetDown',
    expr: `${x.prometheus.metrics.up.name}{job=~"${archibaldJobs}"} == 0`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'An Archibald API or worker target cannot be scraped',
      description:
        'Prometheus has failed to scrape {{ $labels.job }} at {{ $labels.instance }} in {{ $labels.namespace }} for 5 minutes.',
    },
  },
  {
    alert: 'JobsStalled',
    expr: `sum by (namespace) (increase(${m.jobsStalled.name}[15m])) > 0`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'Video jobs stalled and were recovered by another worker',
      description:
        'Workers in {{ $labels.namespace }} stopped renewing the lock of about {{ printf "%.0f" $value }} jobs in the last 15 minutes; the jobs were retried elsewhere.',
    },
  },
  {
    alert: 'RedisMemoryNearLimit',
    expr: `${x.redis.metrics.memoryUsed.name} / ${x.redis.metrics.memoryMax.name} > ${thresholds.redisMemoryRatio}
and
${x.redis.metrics.memoryMax.name} > 0`,
    for: '10m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'Redis memory is near its maxmemory limit',
      description:
        'Redis {{ $labels.instance }} in {{ $labels.namespace }} uses {{ $value | humanizePercentage }} of its maxmemory; at the limit it evicts or refuses writes and the queue breaks.',
    },
  },
  {
    alert: 'PostgresReplicaLag',
    expr: `${x.postgres.metrics.replicationLag.name} > ${thresholds.replicaLagSeconds}
or
${x.cloudNativePg.metrics.replicationLag.name} > ${thresholds.replicaLagSeconds}`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'A Postgres read replica lags behind the primary',
      description:
        'Replica {{ $labels.instance }} in {{ $labels.namespace }} is {{ $value | humanizeDuration }} behind the primary; reads from it return stale jobs.',
    },
  },
  {
    alert: 'BackupJobFailed',
    expr: `${x.kubeStateMetrics.metrics.jobFailed.name}{job_name=~"${backupJobNamePattern}", condition="true"} > 0`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'A backup job failed',
      description:
        'The Kubernetes Job {{ $labels.job_name }} in {{ $labels.namespace }} failed: the latest backup was not taken.',
    },
  },
  {
    alert: 'VaultSealed',
    expr: `${x.vault.metrics.unsealed.name} == 0`,
    for: '2m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'Vault is sealed',
      description:
        'Vault {{ $labels.instance }} in {{ $labels.namespace }} is sealed: secrets cannot be read or renewed, and new API and worker pods cannot start.',
    },
  },
];
