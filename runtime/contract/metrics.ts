/**
 * The metric catalog: every metric Archibald exports, in one place.
 *
 * The runtime registers its prom-client metrics from these entries, the dashboards and the alert
 * rules are written against these names, and tests check that what a running process exposes and
 * what the dashboards query agree with this file. Add a metric here first, never inline.
 *
 * Conventions (Prometheus naming): `archibald_` prefix, base units in the name (`_seconds`,
 * `_usd`), `_total` on counters, and only bounded label values (never an id).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** The process roles that expose a metric on their `/metrics`. */
export type MetricSource = 'api' | 'worker';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Histogram bucket upper bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
  readonly sources: readonly MetricSource[];
  /** The unit Grafana should show for the value (its unit id). */
  readonly unit: string;
  /** A latency histogram whose observations carry the trace id as an exemplar (when tracing is on). */
  readonly exemplars?: boolean;
}

/** Video outcomes, the bounded values of the `outcome` label. */
export const VIDEO_OUTCOMES = ['completed', 'failed', 'cancelled'] as const;

/** BullMQ job states exported by `archibald_queue_jobs`. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'completed',
  'failed',
  'paused',
] as const;

// 200 ms is the API latency SLO (p95), so it must be a bucket boundary.
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10] as const;
const STAGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600] as const;
// $0.10 per video is the cost alert threshold, so it must be a bucket boundary.
const COST_BUCKETS = [0, 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.25, 0.5, 1] as const;
const PROVIDER_CALL_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120] as const;
const VIDEO_SECONDS_BUCKETS = [15, 30, 60, 90, 120, 180, 300, 450, 600] as const;

export const metricCatalog = {
  httpRequestDuration: {
    name: 'archibald_http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request duration by route template, method and status code.',
    labelNames: ['route', 'method', 'status_code'],
    buckets: HTTP_BUCKETS,
    sources: ['api'],
    unit: 's',
    exemplars: true,
  },
  rateLimitedRequests: {
    name: 'archibald_http_rate_limited_requests_total',
    type: 'counter',
    help: 'Requests refused with 429 by the per-key rate limit or the per-address limit before authentication.',
    labelNames: ['route'],
    sources: ['api'],
    unit: 'short',
  },
  videosSubmitted: {
    name: 'archibald_videos_submitted_total',
    type: 'counter',
    help: 'Video requests accepted by the API (idempotent replays not counted).',
    labelNames: [],
    sources: ['api'],
    unit: 'short',
  },
  videosFinished: {
    name: 'archibald_videos_finished_total',
    type: 'counter',
    help: 'Videos that reached a final state, by outcome (completed, failed, cancelled).',
    labelNames: ['outcome'],
    sources: ['worker'],
    unit: 'short',
  },
  queueJobs: {
    name: 'archibald_queue_jobs',
    type: 'gauge',
    help: 'Jobs in the video queue by BullMQ state, read from Redis at scrape time.',
    labelNames: ['state'],
    sources: ['api'],
    unit: 'short',
  },
  stageDuration: {
    name: 'archibald_stage_duration_seconds',
    type: 'histogram',
    help: 'Wall time of one pipeline stage run, by stage and outcome (ok, error, cancelled).',
    labelNames: ['stage', 'outcome'],
    buckets: STAGE_BUCKETS,
    sources: ['worker'],
    unit: 's',
    exemplars: true,
  },
  stageFailures: {
    name: 'archibald_stage_failures_total',
    type: 'counter',
    help: 'Pipeline stage runs that failed, by stage.',
    labelNames: ['stage'],
    sources: ['worker'],
    unit: 'short',
  },
  jobRetries: {
    name: 'archibald_job_retries_total',
    type: 'counter',
    help: 'Job attempts after the first (BullMQ retries with backoff).',
    labelNames: [],
    sources: ['worker'],
    unit: 'short',
  },
  jobsStalled: {
    name: 'archibald_jobs_stalled_total',
    type: 'counter',
    help: 'Jobs whose worker stopped renewing the lock and that were recovered by another worker.',
    labelNames: [],
    sources: ['worker'],
    unit: 'short',
  },
  reconcilerRuns: {
    name: 'archibald_reconciler_runs_total',
    type: 'counter',
    help: 'Reconciler passes by outcome: ran (this worker held the lock), skipped (another did), error.',
    labelNames: ['outcome'],
    sources: ['worker'],
    unit: 'short',
  },
  reconcilerActions: {
    name: 'archibald_reconciler_actions_total',
    type: 'counter',
    help: 'Videos Postgres still called queued or running with no live job: requeued (reason missing or completed) or failed (reason gave-up).',
    labelNames: ['action', 'reason'],
    sources: ['worker'],
    unit: 'short',
  },
  workerActiveJobs: {
    name: 'archibald_worker_active_jobs',
    type: 'gauge',
    help: 'Jobs this worker process is running now.',
    labelNames: [],
    sources: ['worker'],
    unit: 'short',
  },
  workerConcurrency: {
    name: 'archibald_worker_concurrency',
    type: 'gauge',
    help: 'Jobs this worker process may run at once (its configured concurrency).',
    labelNames: [],
    sources: ['worker'],
    unit: 'short',
  },
  videoRenderDuration: {
    name: 'archibald_video_render_duration_seconds',
    type: 'histogram',
    help: 'Wall time from a job starting to run to its video being published.',
    labelNames: [],
    buckets: STAGE_BUCKETS,
    sources: ['worker'],
    unit: 's',
    exemplars: true,
  },
  videoLength: {
    name: 'archibald_video_length_seconds',
    type: 'histogram',
    help: 'Length of each published video; with the render duration it gives render time per video second.',
    labelNames: [],
    buckets: VIDEO_SECONDS_BUCKETS,
    sources: ['worker'],
    unit: 's',
  },
  videoCost: {
    name: 'archibald_video_cost_usd',
    type: 'histogram',
    help: 'Provider cost of each completed video in US dollars (zero when rendered offline).',
    labelNames: [],
    buckets: COST_BUCKETS,
    sources: ['worker'],
    unit: 'currencyUSD',
  },
  providerCost: {
    name: 'archibald_provider_cost_usd_total',
    type: 'counter',
    help: 'Spend on external providers in US dollars, by provider (offline providers cost nothing).',
    labelNames: ['provider'],
    sources: ['worker'],
    unit: 'currencyUSD',
  },
  providerCalls: {
    name: 'archibald_provider_calls_total',
    type: 'counter',
    help: 'Paid provider calls by provider, model and outcome: ok (a usable answer), invalid (an answer that failed validation) or error (failed after its retries).',
    labelNames: ['provider', 'model', 'outcome'],
    sources: ['worker'],
    unit: 'short',
  },
  providerCallDuration: {
    name: 'archibald_provider_call_seconds',
    type: 'histogram',
    help: 'Wall time of one paid provider call, retries included, by provider and model.',
    labelNames: ['provider', 'model'],
    buckets: PROVIDER_CALL_BUCKETS,
    sources: ['worker'],
    unit: 's',
    exemplars: true,
  },
  providerUnits: {
    name: 'archibald_provider_units_total',
    type: 'counter',
    help: 'Billed units of paid provider calls by provider, model and unit (tokens, characters, images).',
    labelNames: ['provider', 'model', 'unit'],
    sources: ['worker'],
    unit: 'short',
  },
  providerModelCost: {
    name: 'archibald_provider_model_cost_usd_total',
    type: 'counter',
    help: 'Spend on paid provider calls in US dollars, by provider and model (priced from each answer).',
    labelNames: ['provider', 'model'],
    sources: ['worker'],
    unit: 'currencyUSD',
  },
  providerSkips: {
    name: 'archibald_provider_skips_total',
    type: 'counter',
    help: 'Paid provider models not called, by provider, model and reason: circuit_open (cooling down after repeated failures) or budget (the call could cross VIDEO_BUDGET_USD).',
    labelNames: ['provider', 'model', 'reason'],
    sources: ['worker'],
    unit: 'short',
  },
  providerCircuitOpen: {
    name: 'archibald_provider_circuit_open',
    type: 'gauge',
    help: '1 while this worker skips the model (its circuit is open after repeated failures), 0 once it is half-open or closed again; no series for a model that never failed.',
    labelNames: ['provider', 'model'],
    sources: ['worker'],
    unit: 'short',
  },
  providerEscalations: {
    name: 'archibald_provider_escalations_total',
    type: 'counter',
    help: "Tasks moved to the provider's next model after this model's answer was unusable, by task, provider and model.",
    labelNames: ['task', 'provider', 'model'],
    sources: ['worker'],
    unit: 'short',
  },
  providerFallbacks: {
    name: 'archibald_provider_fallbacks_total',
    type: 'counter',
    help: "Tasks served by the offline fallback after the provider's last model (named) failed or was skipped, by task, provider and model.",
    labelNames: ['task', 'provider', 'model'],
    sources: ['worker'],
    unit: 'short',
  },
  scriptCacheRequests: {
    name: 'archibald_script_cache_requests_total',
    type: 'counter',
    help: 'Script response-cache lookups by result: hit (a model-written script reused at no cost) or miss.',
    labelNames: ['result'],
    sources: ['worker'],
    unit: 'short',
  },
  scriptsWritten: {
    name: 'archibald_scripts_written_total',
    type: 'counter',
    help: 'Scripts written, by the writer that made them (offline-template, or anthropic:<model>, a cache hit counting for the model that wrote the cached script).',
    labelNames: ['writer'],
    sources: ['worker'],
    unit: 'short',
  },
  buildInfo: {
    name: 'archibald_build_info',
    type: 'gauge',
    help: 'Always 1; labels carry the running version and process role.',
    labelNames: ['version', 'role'],
    sources: ['api', 'worker'],
    unit: 'short',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof metricCatalog;

export const allMetrics: readonly MetricDefinition[] = Object.values(metricCatalog);

/**
 * The series names a metric produces on an exposition page: histograms expose
 * `_bucket`, `_sum` and `_count`, the others their own name.
 */
export function exposedSeriesNames(metric: MetricDefinition): string[] {
  return metric.type === 'histogram'
    ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`]
    : [metric.name];
}
