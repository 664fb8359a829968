/**
 * promtool unit tests for every alert, kubernetes-mixin style: for each alert, input series that
 * stay just on the quiet side of its threshold, that fire but are still inside the `for`
 * duration, and that fire after it, with the exact labels and annotations expected. Series names
 * come from the metric catalog and the exporters catalog; the expected texts are written out.
 */
import { metricCatalog } from '../../runtime/contract/metrics.js';
import { exporters } from '../../dashboards/exporters.js';
import { scrapeJobs } from '../../dashboards/conventions.js';
import { buildRuleGroups, DEFAULT_RUNBOOK_BASE_URL } from '../../dashboards/rules/index.js';
import { sli } from '../../dashboards/rules/slis.js';

const m = metricCatalog;
const x = exporters;
const NS = 'archibald';

export interface ExpectedAlert {
  labels: Record<string, string>;
  summary: string;
  description: string;
}

export interface AlertEval {
  at: string;
  alert: string;
  /** The alerts firing at that time; empty means silent (pending alerts do not count). */
  firing: ExpectedAlert[];
}

export interface ExprEval {
  at: string;
  expr: string;
  samples: Array<{ labels: string; value: number }>;
}

export interface AlertCase {
  name: string;
  /**
   * The step of the input series and of rule evaluation. Cases spanning days use 10 minutes so
   * promtool stays quick and light (one evaluation interval per file, so they get their own file).
   */
  interval?: '1m' | '10m';
  series: Array<{ series: string; values: string }>;
  alerts: AlertEval[];
  exprs?: ExprEval[];
}

export function series(name: string, labels: Record<string, string> = {}): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return `${name}{${body}}`;
}

/**
 * A counter in promtool's expanding notation, one sample per step (a minute unless the case says
 * otherwise): each segment adds `perStep` for `steps` samples, starting from 0 at step 0.
 */
export function counter(...segments: Array<[perStep: number, steps: number]>): string {
  let value = 0;
  const parts: string[] = [];
  segments.forEach(([perStep, steps], i) => {
    const start = i === 0 ? 0 : value + perStep;
    const repeats = i === 0 ? steps : steps - 1;
    parts.push(`${round(start)}+${perStep}x${repeats}`);
    value = start + perStep * repeats;
  });
  return parts.join(' ');
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

export function runbook(alert: string): string {
  return `${DEFAULT_RUNBOOK_BASE_URL}/${alert}.md`;
}

const http = m.httpRequestDuration.name;
const api = (status: string) =>
  series(`${http}_count`, { namespace: NS, route: '/v1/videos', method: 'POST', status_code: status });
const fastBucket = series(`${http}_bucket`, {
  namespace: NS,
  route: '/v1/videos',
  method: 'POST',
  status_code: '202',
  le: '0.2',
});
const allCount = api('202');
const otherRoute = (route: string, status: string) =>
  series(`${http}_count`, { namespace: NS, route, method: 'GET', status_code: status });
const otherRouteFastBucket = (route: string) =>
  series(`${http}_bucket`, { namespace: NS, route, method: 'GET', status_code: '200', le: '0.2' });

const availabilitySummary = 'API requests are failing with 5xx errors';
const latencySummary = 'API requests are slower than 200 ms';
const fastBurn =
  'at 6 times its sustainable rate or faster: at this pace the 30-day budget is gone within 5 days';
const slowBurn =
  'faster than it can sustain: at this pace the 30-day budget is gone before the 30 days are over';
const availabilityDescription = (burn: string) =>
  `The API in ${NS} is spending the error budget of its 99.9% availability objective ${burn}.`;
const latencyDescription = (burn: string) =>
  `The API in ${NS} is spending the error budget of its latency (95% of requests within 200 ms) objective ${burn}.`;

function burnAlert(severity: string, summary: string, description: string): ExpectedAlert {
  return { labels: { namespace: NS, severity }, summary, description };
}

const finished = (outcome: string) => series(m.videosFinished.name, { namespace: NS, outcome });
const spend = (provider: string) => series(m.providerCost.name, { namespace: NS, provider });
const queue = (pod: string, state: string) => series(m.queueJobs.name, { namespace: NS, pod, state });
const worker = (name: string, pod: string) => series(name, { namespace: NS, pod });

export const alertCases: AlertCase[] = [
  // HighCostPerVideo: provider spend per completed video > 0.10 USD for 5m, warning.
  {
    name: 'provider spend of 0.25 USD per completed video warns after 5 minutes',
    series: [
      { series: spend('anthropic'), values: counter([0.15, 60]) },
      { series: spend('elevenlabs'), values: counter([0.1, 60]) },
      { series: finished('completed'), values: counter([1, 60]) },
    ],
    alerts: [
      { at: '4m', alert: 'HighCostPerVideo', firing: [] },
      {
        at: '10m',
        alert: 'HighCostPerVideo',
        firing: [
          {
            labels: { namespace: NS, severity: 'warning' },
            summary: 'Video cost exceeding threshold',
            description:
              'Provider spend in archibald over the last 5 minutes came to 0.250 USD per completed video (failed and retried attempts included), above the 0.10 USD budget per video.',
          },
        ],
      },
    ],
  },
  {
    name: 'provider spend of 0.09 USD per completed video stays quiet',
    series: [
      { series: spend('anthropic'), values: counter([0.09, 60]) },
      { series: finished('completed'), values: counter([1, 60]) },
    ],
    alerts: [{ at: '30m', alert: 'HighCostPerVideo', firing: [] }],
  },
  {
    name: 'offline rendering has a cost per video of zero and stays quiet',
    series: [{ series: finished('completed'), values: counter([1, 60]) }],
    exprs: [
      {
        at: '10m',
        expr: sli.costPerVideo,
        samples: [{ labels: series(sli.costPerVideo, { namespace: NS }), value: 0 }],
      },
    ],
    alerts: [{ at: '30m', alert: 'HighCostPerVideo', firing: [] }],
  },
  {
    name: 'spend on failed attempts counts towards the cost per completed video',
    series: [
      { series: spend('anthropic'), values: counter([0.3, 60]) },
      { series: finished('completed'), values: counter([1, 60]) },
      { series: finished('failed'), values: counter([2, 60]) },
    ],
    // Divided by all three finished videos it would be 0.10 and quiet.
    alerts: [
      {
        at: '10m',
        alert: 'HighCostPerVideo',
        firing: [
          {
            labels: { namespace: NS, severity: 'warning' },
            summary: 'Video cost exceeding threshold',
            description:
              'Provider spend in archibald over the last 5 minutes came to 0.300 USD per completed video (failed and retried attempts included), above the 0.10 USD budget per video.',
          },
        ],
      },
    ],
  },

  // LowSuccessRate: < 0.90 for 10m, critical.
  {
    name: 'success rate of 80% pages after 10 minutes',
    series: [
      { series: finished('completed'), values: counter([8, 60]) },
      { series: finished('failed'), values: counter([2, 60]) },
    ],
    exprs: [
      {
        at: '20m',
        expr: sli.successRatio,
        samples: [{ labels: series(sli.successRatio, { namespace: NS }), value: 0.8 }],
      },
    ],
    alerts: [
      { at: '8m', alert: 'LowSuccessRate', firing: [] },
      {
        at: '20m',
        alert: 'LowSuccessRate',
        firing: [
          {
            labels: { namespace: NS, severity: 'critical' },
            summary: 'Success rate below 90%',
            description:
              'Only 80% of the videos that finished in archibald over the last 10 minutes completed; the rest failed.',
          },
        ],
      },
    ],
  },
  {
    name: 'success rate of 91% stays quiet, and cancelled videos are no failures',
    series: [
      { series: finished('completed'), values: counter([9.1, 60]) },
      { series: finished('failed'), values: counter([0.9, 60]) },
      { series: finished('cancelled'), values: counter([50, 60]) },
    ],
    alerts: [{ at: '30m', alert: 'LowSuccessRate', firing: [] }],
  },

  // ApiErrorBudgetBurn: 99.9% availability, page at 14.4x (5m & 1h) or 6x (30m & 6h), ticket at
  // 3x (2h & 1d) or 1x (6h & 3d).
  {
    name: '5% of requests failing pages after 2 minutes and tickets after 15',
    series: [
      { series: allCount, values: counter([95, 60]) },
      { series: api('500'), values: counter([5, 60]) },
    ],
    exprs: [
      {
        at: '30m',
        expr: sli.apiErrorRatio('5m'),
        samples: [{ labels: series(sli.apiErrorRatio('5m'), { namespace: NS }), value: 0.05 }],
      },
    ],
    alerts: [
      { at: '2m', alert: 'ApiErrorBudgetBurn', firing: [] },
      {
        at: '5m',
        alert: 'ApiErrorBudgetBurn',
        firing: [burnAlert('critical', availabilitySummary, availabilityDescription(fastBurn))],
      },
      {
        at: '30m',
        alert: 'ApiErrorBudgetBurn',
        firing: [
          burnAlert('critical', availabilitySummary, availabilityDescription(fastBurn)),
          burnAlert('warning', availabilitySummary, availabilityDescription(slowBurn)),
        ],
      },
    ],
  },
  {
    name: '0.59% of requests failing (just under the 6x page) only tickets',
    series: [
      { series: allCount, values: counter([99.41, 60]) },
      { series: api('503'), values: counter([0.59, 60]) },
    ],
    alerts: [
      {
        at: '40m',
        alert: 'ApiErrorBudgetBurn',
        firing: [burnAlert('warning', availabilitySummary, availabilityDescription(slowBurn))],
      },
    ],
  },
  {
    name: '0.09% of API calls failing stays quiet, whatever the probes and /metrics answer',
    series: [
      { series: allCount, values: counter([99.91, 120]) },
      { series: api('500'), values: counter([0.09, 120]) },
      { series: otherRoute('/ready', '503'), values: counter([20, 120]) },
      { series: otherRoute('/metrics', '500'), values: counter([4, 120]) },
    ],
    alerts: [{ at: '2h', alert: 'ApiErrorBudgetBurn', firing: [] }],
  },
  {
    name: 'a 5-minute burst of errors after 6 quiet hours does not page: the long windows disagree',
    series: [
      { series: allCount, values: counter([100, 360], [90, 5]) },
      { series: api('500'), values: counter([0, 360], [10, 5]) },
    ],
    alerts: [{ at: '365m', alert: 'ApiErrorBudgetBurn', firing: [] }],
  },
  {
    name: 'a slow burn at 2x over days tickets through the 6h/3d pair without paging',
    interval: '10m',
    series: [
      // Per 10-minute step: 998 good and 2 failed calls, 0.2% failing.
      { series: allCount, values: counter([998, 440]) },
      { series: api('500'), values: counter([2, 440]) },
    ],
    alerts: [
      {
        at: '3d',
        alert: 'ApiErrorBudgetBurn',
        firing: [burnAlert('warning', availabilitySummary, availabilityDescription(slowBurn))],
      },
    ],
  },

  // ApiLatencyBudgetBurn: 95% within 200 ms, same burn-rate policy on the slow fraction.
  {
    name: '80% of requests slower than 200 ms pages, then tickets',
    series: [
      { series: allCount, values: counter([100, 60]) },
      { series: fastBucket, values: counter([20, 60]) },
    ],
    exprs: [
      {
        at: '30m',
        expr: sli.apiSlowRatio('30m'),
        samples: [{ labels: series(sli.apiSlowRatio('30m'), { namespace: NS }), value: 0.8 }],
      },
    ],
    alerts: [
      { at: '1m', alert: 'ApiLatencyBudgetBurn', firing: [] },
      {
        at: '5m',
        alert: 'ApiLatencyBudgetBurn',
        firing: [burnAlert('critical', latencySummary, latencyDescription(fastBurn))],
      },
      {
        at: '30m',
        alert: 'ApiLatencyBudgetBurn',
        firing: [
          burnAlert('critical', latencySummary, latencyDescription(fastBurn)),
          burnAlert('warning', latencySummary, latencyDescription(slowBurn)),
        ],
      },
    ],
  },
  {
    name: '29% slow (just under the 6x page on the 5% budget) only tickets',
    series: [
      { series: allCount, values: counter([100, 60]) },
      { series: fastBucket, values: counter([71, 60]) },
    ],
    alerts: [
      {
        at: '40m',
        alert: 'ApiLatencyBudgetBurn',
        firing: [burnAlert('warning', latencySummary, latencyDescription(slowBurn))],
      },
    ],
  },
  {
    name: '4% slow stays quiet, however long event streams and downloads last',
    series: [
      { series: allCount, values: counter([100, 60]) },
      { series: fastBucket, values: counter([96, 60]) },
      { series: otherRoute('/v1/videos/:id/events', '200'), values: counter([50, 60]) },
      { series: otherRouteFastBucket('/v1/videos/:id/events'), values: '0x60' },
      { series: otherRoute('/v1/videos/:id/file', '206'), values: counter([30, 60]) },
      { series: otherRouteFastBucket('/v1/videos/:id/file'), values: '0x60' },
    ],
    exprs: [
      {
        at: '50m',
        expr: sli.apiErrorRatio('1h'),
        samples: [{ labels: series(sli.apiErrorRatio('1h'), { namespace: NS }), value: 0 }],
      },
    ],
    alerts: [{ at: '50m', alert: 'ApiLatencyBudgetBurn', firing: [] }],
  },

  // QueueBacklogGrowing: waiting jobs rising for 15m while workers use >= 90%, for 15m, warning.
  {
    name: 'a growing queue with busy workers warns after 15 minutes',
    series: [
      // Two API replicas report the same queue.
      { series: queue('api-0', 'waiting'), values: '0+2x60' },
      { series: queue('api-1', 'waiting'), values: '0+2x60' },
      { series: worker(m.workerActiveJobs.name, 'worker-0'), values: '5x60' },
      { series: worker(m.workerActiveJobs.name, 'worker-1'), values: '4x60' },
      { series: worker(m.workerConcurrency.name, 'worker-0'), values: '5x60' },
      { series: worker(m.workerConcurrency.name, 'worker-1'), values: '5x60' },
    ],
    exprs: [
      {
        at: '10m',
        expr: sli.queueJobs,
        samples: [{ labels: series(sli.queueJobs, { namespace: NS, state: 'waiting' }), value: 20 }],
      },
      {
        at: '10m',
        expr: sli.workerBusyRatio,
        samples: [{ labels: series(sli.workerBusyRatio, { namespace: NS }), value: 0.9 }],
      },
    ],
    alerts: [
      { at: '10m', alert: 'QueueBacklogGrowing', firing: [] },
      {
        at: '20m',
        alert: 'QueueBacklogGrowing',
        firing: [
          {
            labels: { namespace: NS, state: 'waiting', severity: 'warning' },
            summary: 'Video queue backlog is growing while the workers are busy',
            description:
              'Waiting jobs in archibald have kept growing for at least 15 minutes while the workers use 90% or more of their concurrency: demand exceeds capacity.',
          },
        ],
      },
    ],
  },
  {
    name: 'a growing queue with workers at 80% stays quiet (scaling is catching up)',
    series: [
      { series: queue('api-0', 'waiting'), values: '0+2x60' },
      { series: worker(m.workerActiveJobs.name, 'worker-0'), values: '8x60' },
      { series: worker(m.workerConcurrency.name, 'worker-0'), values: '10x60' },
    ],
    alerts: [{ at: '40m', alert: 'QueueBacklogGrowing', firing: [] }],
  },
  {
    name: 'a steady queue with busy workers stays quiet',
    series: [
      { series: queue('api-0', 'waiting'), values: '12x60' },
      { series: worker(m.workerActiveJobs.name, 'worker-0'), values: '10x60' },
      { series: worker(m.workerConcurrency.name, 'worker-0'), values: '10x60' },
    ],
    alerts: [{ at: '40m', alert: 'QueueBacklogGrowing', firing: [] }],
  },

  // NoVideoCompleted: jobs waiting and no completion in 15m, for 10m, critical.
  {
    name: 'jobs waiting 25 minutes after the last completion page',
    series: [
      { series: queue('api-0', 'waiting'), values: '3x90' },
      { series: finished('completed'), values: counter([1, 30], [0, 60]) },
    ],
    alerts: [
      { at: '30m', alert: 'NoVideoCompleted', firing: [] },
      { at: '50m', alert: 'NoVideoCompleted', firing: [] },
      {
        at: '56m',
        alert: 'NoVideoCompleted',
        firing: [
          {
            labels: { namespace: NS, state: 'waiting', severity: 'critical' },
            summary: 'No video completed while jobs are waiting',
            description: '3 jobs wait in the queue of archibald and no video has completed for 25 minutes.',
          },
        ],
      },
    ],
  },
  {
    name: 'an empty queue with no completions stays quiet (nothing to do)',
    series: [
      { series: queue('api-0', 'waiting'), values: '0x60' },
      { series: finished('completed'), values: '7x60' },
    ],
    alerts: [{ at: '50m', alert: 'NoVideoCompleted', firing: [] }],
  },
  {
    name: 'jobs waiting while videos keep completing stays quiet',
    series: [
      { series: queue('api-0', 'waiting'), values: '40x60' },
      { series: finished('completed'), values: counter([0.2, 60]) },
    ],
    alerts: [{ at: '50m', alert: 'NoVideoCompleted', firing: [] }],
  },

  // ArchibaldTargetDown: an API or worker target failing its scrape for 5m, warning.
  {
    name: 'a worker target failing its scrape warns after 5 minutes',
    series: [
      {
        series: series(x.prometheus.metrics.up.name, {
          job: scrapeJobs.worker,
          instance: '10.0.1.7:9464',
          namespace: NS,
        }),
        values: '0x30',
      },
      {
        series: series(x.prometheus.metrics.up.name, {
          job: scrapeJobs.api,
          instance: '10.0.1.8:3000',
          namespace: NS,
        }),
        values: '1x30',
      },
    ],
    alerts: [
      { at: '3m', alert: 'ArchibaldTargetDown', firing: [] },
      {
        at: '10m',
        alert: 'ArchibaldTargetDown',
        firing: [
          {
            labels: { job: scrapeJobs.worker, instance: '10.0.1.7:9464', namespace: NS, severity: 'warning' },
            summary: 'An Archibald API or worker target cannot be scraped',
            description:
              'Prometheus has failed to scrape archibald-worker at 10.0.1.7:9464 in archibald for 5 minutes.',
          },
        ],
      },
    ],
  },
  {
    name: 'another job down, or all Archibald targets up, stays quiet',
    series: [
      {
        series: series(x.prometheus.metrics.up.name, { job: 'node-exporter', instance: 'n1:9100' }),
        values: '0x30',
      },
      {
        series: series(x.prometheus.metrics.up.name, {
          job: scrapeJobs.api,
          instance: '10.0.1.8:3000',
          namespace: NS,
        }),
        values: '1x30',
      },
    ],
    alerts: [{ at: '20m', alert: 'ArchibaldTargetDown', firing: [] }],
  },

  // JobsStalled: any stalled job in 15m, for 5m, warning.
  {
    name: 'a stalled job warns after 5 minutes',
    series: [{ series: worker(m.jobsStalled.name, 'worker-0'), values: '0x10 1x30' }],
    alerts: [
      { at: '13m', alert: 'JobsStalled', firing: [] },
      {
        at: '18m',
        alert: 'JobsStalled',
        firing: [
          {
            labels: { namespace: NS, severity: 'warning' },
            summary: 'Video jobs stalled and were recovered by another worker',
            description:
              'Workers in archibald stopped renewing the lock of about 1 jobs in the last 15 minutes; the jobs were retried elsewhere.',
          },
        ],
      },
      { at: '40m', alert: 'JobsStalled', firing: [] },
    ],
  },
  {
    name: 'no stalled jobs stays quiet',
    series: [{ series: worker(m.jobsStalled.name, 'worker-0'), values: '0x40' }],
    alerts: [{ at: '30m', alert: 'JobsStalled', firing: [] }],
  },

  // RedisMemoryNearLimit: > 90% of maxmemory for 10m, warning.
  {
    name: 'Redis at 95% of maxmemory warns after 10 minutes',
    series: [
      {
        series: series(x.redis.metrics.memoryUsed.name, {
          instance: 'redis-0:9121',
          job: 'redis-exporter',
          namespace: NS,
        }),
        values: '950000000x30',
      },
      {
        series: series(x.redis.metrics.memoryMax.name, {
          instance: 'redis-0:9121',
          job: 'redis-exporter',
          namespace: NS,
        }),
        values: '1000000000x30',
      },
    ],
    alerts: [
      { at: '8m', alert: 'RedisMemoryNearLimit', firing: [] },
      {
        at: '15m',
        alert: 'RedisMemoryNearLimit',
        firing: [
          {
            labels: { instance: 'redis-0:9121', job: 'redis-exporter', namespace: NS, severity: 'warning' },
            summary: 'Redis memory is near its maxmemory limit',
            description:
              'Redis redis-0:9121 in archibald uses 95% of its maxmemory; at the limit it evicts or refuses writes and the queue breaks.',
          },
        ],
      },
    ],
  },
  {
    name: 'Redis at 89% of maxmemory, or without a limit, stays quiet',
    series: [
      {
        series: series(x.redis.metrics.memoryUsed.name, { instance: 'redis-0:9121' }),
        values: '890000000x30',
      },
      {
        series: series(x.redis.metrics.memoryMax.name, { instance: 'redis-0:9121' }),
        values: '1000000000x30',
      },
      {
        series: series(x.redis.metrics.memoryUsed.name, { instance: 'redis-1:9121' }),
        values: '990000000x30',
      },
      { series: series(x.redis.metrics.memoryMax.name, { instance: 'redis-1:9121' }), values: '0x30' },
    ],
    alerts: [{ at: '25m', alert: 'RedisMemoryNearLimit', firing: [] }],
  },

  // PostgresReplicaLag: > 30 s for 5m, warning, from postgres_exporter or CloudNativePG.
  {
    name: 'replicas 45 s and 60 s behind warn after 5 minutes',
    series: [
      {
        series: series(x.postgres.metrics.replicationLag.name, {
          instance: 'pg-replica-1:9187',
          namespace: NS,
        }),
        values: '45x20',
      },
      {
        series: series(x.cloudNativePg.metrics.replicationLag.name, {
          instance: '10.0.2.5:9187',
          pod: 'archibald-db-2',
          namespace: NS,
        }),
        values: '60x20',
      },
    ],
    alerts: [
      { at: '4m', alert: 'PostgresReplicaLag', firing: [] },
      {
        at: '10m',
        alert: 'PostgresReplicaLag',
        firing: [
          {
            labels: { instance: 'pg-replica-1:9187', namespace: NS, severity: 'warning' },
            summary: 'A Postgres read replica lags behind the primary',
            description:
              'Replica pg-replica-1:9187 in archibald is 45s behind the primary; reads from it return stale jobs.',
          },
          {
            labels: { instance: '10.0.2.5:9187', pod: 'archibald-db-2', namespace: NS, severity: 'warning' },
            summary: 'A Postgres read replica lags behind the primary',
            description:
              'Replica 10.0.2.5:9187 in archibald is 1m 0s behind the primary; reads from it return stale jobs.',
          },
        ],
      },
    ],
  },
  {
    name: 'a replica 29 s behind stays quiet',
    series: [
      {
        series: series(x.postgres.metrics.replicationLag.name, {
          instance: 'pg-replica-1:9187',
          namespace: NS,
        }),
        values: '29x20',
      },
    ],
    alerts: [{ at: '15m', alert: 'PostgresReplicaLag', firing: [] }],
  },

  // BackupJobFailed: a backup Job in condition Failed for 5m, warning.
  {
    name: 'a failed backup job warns after 5 minutes',
    series: [
      {
        series: series(x.kubeStateMetrics.metrics.jobFailed.name, {
          job: 'kube-state-metrics',
          job_name: 'archibald-backup-29012345',
          condition: 'true',
          namespace: NS,
        }),
        values: '0x5 1x20',
      },
      {
        series: series(x.kubeStateMetrics.metrics.jobFailed.name, {
          job: 'kube-state-metrics',
          job_name: 'vault-raft-snapshot-29012400',
          condition: 'true',
          namespace: 'vault',
        }),
        values: '0x5 1x20',
      },
    ],
    alerts: [
      { at: '8m', alert: 'BackupJobFailed', firing: [] },
      {
        at: '15m',
        alert: 'BackupJobFailed',
        firing: [
          {
            labels: {
              job: 'kube-state-metrics',
              job_name: 'archibald-backup-29012345',
              condition: 'true',
              namespace: NS,
              severity: 'warning',
            },
            summary: 'A backup job failed',
            description:
              'The Kubernetes Job archibald-backup-29012345 in archibald failed: the latest backup was not taken.',
          },
          {
            labels: {
              job: 'kube-state-metrics',
              job_name: 'vault-raft-snapshot-29012400',
              condition: 'true',
              namespace: 'vault',
              severity: 'warning',
            },
            summary: 'A backup job failed',
            description:
              'The Kubernetes Job vault-raft-snapshot-29012400 in vault failed: the latest backup was not taken.',
          },
        ],
      },
    ],
  },
  {
    name: 'a backup job that did not fail, or another failed job, stays quiet',
    series: [
      {
        series: series(x.kubeStateMetrics.metrics.jobFailed.name, {
          job_name: 'archibald-backup-29012345',
          condition: 'false',
          namespace: NS,
        }),
        values: '1x20',
      },
      {
        series: series(x.kubeStateMetrics.metrics.jobFailed.name, {
          job_name: 'archibald-backup-29012345',
          condition: 'true',
          namespace: NS,
        }),
        values: '0x20',
      },
      {
        series: series(x.kubeStateMetrics.metrics.jobFailed.name, {
          job_name: 'archibald-migrate-1',
          condition: 'true',
          namespace: NS,
        }),
        values: '1x20',
      },
    ],
    alerts: [{ at: '15m', alert: 'BackupJobFailed', firing: [] }],
  },

  // VaultSealed: sealed for 2m, critical.
  {
    name: 'a sealed Vault pages after 2 minutes',
    series: [
      {
        series: series(x.vault.metrics.unsealed.name, {
          instance: 'vault-0:8200',
          job: 'vault',
          namespace: 'vault',
        }),
        values: '1x3 0x20',
      },
    ],
    alerts: [
      { at: '3m', alert: 'VaultSealed', firing: [] },
      { at: '5m', alert: 'VaultSealed', firing: [] },
      {
        at: '8m',
        alert: 'VaultSealed',
        firing: [
          {
            labels: { instance: 'vault-0:8200', job: 'vault', namespace: 'vault', severity: 'critical' },
            summary: 'Vault is sealed',
            description:
              'Vault vault-0:8200 in vault is sealed: secrets cannot be read or renewed, and new API and worker pods cannot start.',
          },
        ],
      },
    ],
  },
  {
    name: 'an unsealed Vault stays quiet',
    series: [{ series: series(x.vault.metrics.unsealed.name, { instance: 'vault-0:8200' }), values: '1x20' }],
    alerts: [{ at: '15m', alert: 'VaultSealed', firing: [] }],
  },
];

/** Renders the cases as promtool test files (one per evaluation interval) for `rulesFile`. */
export function promtoolTestFiles(rulesFile: string): Map<string, object> {
  const files = new Map<string, object>();
  for (const interval of ['1m', '10m'] as const) {
    const cases = alertCases.filter((c) => (c.interval ?? '1m') === interval);
    if (cases.length === 0) continue;
    files.set(`tests-${interval}.yaml`, {
      rule_files: [rulesFile],
      evaluation_interval: interval,
      // Without an explicit order promtool evaluates groups in an unstable order, so an alert could
      // read its recording rules one evaluation late, differently from run to run.
      group_eval_order: buildRuleGroups().map((g) => g.name),
      tests: cases.map((c) => ({
        name: c.name,
        interval,
        input_series: c.series,
        alert_rule_test: c.alerts.map((a) => ({
          eval_time: a.at,
          alertname: a.alert,
          exp_alerts: a.firing.map((f) => ({
            exp_labels: f.labels,
            exp_annotations: {
              summary: f.summary,
              description: f.description,
              runbook_url: runbook(a.alert),
            },
          })),
        })),
        promql_expr_test: (c.exprs ?? []).map((e) => ({
          expr: e.expr,
          eval_time: e.at,
          exp_samples: e.samples,
        })),
      })),
    });
  }
  return files;
}
