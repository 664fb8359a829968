/**
 * Recording rules for the service level indicators. Every SLI is aggregated per namespace (one
 * Archibald deployment), so alerts built on them carry the namespace and nothing per-pod.
 * Names follow Prometheus' level:metric:operations convention, built from the catalog's names.
 */
import { metricCatalog } from '../../runtime/contract/metrics.js';
import type { RecordingRule } from './types.js';

const m = metricCatalog;
const http = m.httpRequestDuration.name;

/** The API availability and latency objectives (from the seeds: 99.9% uptime, p95 < 200 ms). */
export const apiSlo = {
  availabilityTarget: 0.999,
  /** 1 - availabilityTarget, written out so no float rounding reaches the rules. */
  availabilityErrorBudget: 0.001,
  /** Requests slower than this count against the latency objective; a histogram bucket bound. */
  latencyThresholdSeconds: 0.2,
  latencyTarget: 0.95,
  latencyErrorBudget: 0.05,
  /** The public API's route templates count towards the objectives; probes, /metrics and /docs do not. */
  routes: '/v1/.*',
  /** Event streams and downloads last as long as the client reads, so they have no latency objective. */
  unboundedRoutes: '/v1/videos/:id/(events|file|captions)',
} as const;

/** Label matchers selecting the requests each objective is about. */
export const sloRequests = {
  availability: `route=~"${apiSlo.routes}"`,
  latency: `route=~"${apiSlo.routes}", route!~"${apiSlo.unboundedRoutes}"`,
} as const;

/** Windows the burn-rate alerts compare (Google SRE workbook, multi-window multi-burn-rate). */
export const sloWindows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type SloWindow = (typeof sloWindows)[number];

function recordName(metric: string, operation: string): string {
  return `namespace:${metric}:${operation}`;
}

/** Drops a counter's `_total`, as the recording-rule convention asks. */
function base(counterName: string): string {
  return counterName.replace(/_total$/, '');
}

export const sli = {
  successRatio: recordName(base(m.videosFinished.name), 'success_ratio_rate10m'),
  costPerVideo: recordName(base(m.providerCost.name), 'per_completed_video_rate5m'),
  videosCompletedPerHour: recordName(base(m.videosFinished.name), 'completed_per_hour_rate1h'),
  queueJobs: recordName(m.queueJobs.name, 'max'),
  workerBusyRatio: recordName(m.workerActiveJobs.name, 'busy_ratio'),
  apiLatencyP95: recordName(http, 'p95_rate5m'),
  apiErrorRatio: (w: SloWindow) => recordName(http, `error_ratio_rate${w}`),
  apiSlowRatio: (w: SloWindow) => recordName(http, `slow_ratio_rate${w}`),
};

const finished = m.videosFinished.name;

export const sliRecordingRules: RecordingRule[] = [
  {
    record: sli.successRatio,
    // Cancelled videos were stopped by their requester: neither a success nor a failure.
    expr: `sum by (namespace) (rate(${finished}{outcome="completed"}[10m]))
/
sum by (namespace) (rate(${finished}{outcome=~"completed|failed"}[10m]))`,
  },
  {
    record: sli.costPerVideo,
    // Real spend: every provider call paid for (failed, cancelled and retried attempts too) per
    // video delivered. Offline rendering has no provider series: the `or` makes it 0, not absent.
    expr: `(
  sum by (namespace) (rate(${m.providerCost.name}[5m]))
  or
  0 * sum by (namespace) (rate(${finished}{outcome="completed"}[5m]))
)
/
sum by (namespace) (rate(${finished}{outcome="completed"}[5m]))`,
  },
  {
    record: sli.videosCompletedPerHour,
    expr: `sum by (namespace) (rate(${finished}{outcome="completed"}[1h])) * 3600`,
  },
  {
    record: sli.queueJobs,
    // Every API replica reads the same Redis queue, so replicas report the same value: max, not sum.
    expr: `max by (namespace, state) (${m.queueJobs.name})`,
  },
  {
    record: sli.workerBusyRatio,
    expr: `sum by (namespace) (${m.workerActiveJobs.name})
/
sum by (namespace) (${m.workerConcurrency.name})`,
  },
  {
    record: sli.apiLatencyP95,
    expr: `histogram_quantile(0.95, sum by (namespace, le) (rate(${http}_bucket{${sloRequests.latency}}[5m])))`,
  },
  ...sloWindows.map((w) => ({
    record: sli.apiErrorRatio(w),
    // Without the `or`, a namespace that never answered a 5xx would have no ratio at all, not 0.
    expr: `(
  sum by (namespace) (rate(${http}_count{${sloRequests.availability}, status_code=~"5.."}[${w}]))
  or
  0 * sum by (namespace) (rate(${http}_count{${sloRequests.availability}}[${w}]))
)
/
sum by (namespace) (rate(${http}_count{${sloRequests.availability}}[${w}]))`,
  })),
  ...sloWindows.map((w) => ({
    record: sli.apiSlowRatio(w),
    expr: `1 - (
  sum by (namespace) (rate(${http}_bucket{${sloRequests.latency}, le="${apiSlo.latencyThresholdSeconds}"}[${w}]))
  /
  sum by (namespace) (rate(${http}_count{${sloRequests.latency}}[${w}]))
)`,
  })),
];
