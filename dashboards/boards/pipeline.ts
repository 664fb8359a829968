import { metricCatalog } from '../../runtime/contract/metrics.js';
import { ns } from '../panels.js';
import type { DashboardSpec } from '../panels.js';

const m = metricCatalog;
const stage = m.stageDuration.name;
const render = m.videoRenderDuration.name;

export const pipelineDashboard: DashboardSpec = {
  uid: 'archibald-pipeline',
  title: 'Archibald / Pipeline',
  description:
    'The workers and the stages of the video pipeline: how long each stage takes, what fails, and how busy the workers are.',
  tags: ['archibald'],
  panels: [
    {
      kind: 'timeseries',
      title: 'Videos submitted and finished per hour',
      description:
        'Video requests the API accepted against videos reaching a final state, per hour. A gap that persists is the queue growing.',
      unit: 'short',
      width: 24,
      queries: [
        { expr: `sum(rate(${m.videosSubmitted.name}{${ns}}[$__rate_interval])) * 3600`, legend: 'submitted' },
        {
          expr: `sum by (outcome) (rate(${m.videosFinished.name}{${ns}}[$__rate_interval])) * 3600`,
          legend: '{{outcome}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Stage duration p50',
      description:
        'Median wall time of one run of each pipeline stage (script, narration, visuals, captions, assemble, publish).',
      unit: 's',
      width: 12,
      queries: [
        {
          expr: `histogram_quantile(0.5, sum by (stage, le) (rate(${stage}_bucket{${ns}}[$__rate_interval])))`,
          legend: '{{stage}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Stage duration p95',
      description: '95th percentile wall time of one run of each pipeline stage.',
      unit: 's',
      width: 12,
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (stage, le) (rate(${stage}_bucket{${ns}}[$__rate_interval])))`,
          legend: '{{stage}}',
          exemplars: true,
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Stage failures',
      description:
        'Pipeline stage runs that failed in each interval, by stage. The failing stage and its error are also recorded on the job.',
      unit: 'short',
      width: 12,
      stacked: true,
      queries: [
        {
          expr: `sum by (stage) (increase(${m.stageFailures.name}{${ns}}[$__rate_interval]))`,
          legend: '{{stage}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Worker jobs running and concurrency',
      description:
        'Jobs the workers are running now against the jobs they may run at once, summed over all worker pods.',
      unit: 'short',
      width: 12,
      queries: [
        { expr: `sum(${m.workerActiveJobs.name}{${ns}})`, legend: 'running' },
        { expr: `sum(${m.workerConcurrency.name}{${ns}})`, legend: 'concurrency' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Worker utilisation',
      description:
        "Share of the workers' concurrency in use. Near 100% with a growing queue means more workers are needed (QueueBacklogGrowing).",
      unit: 'percentunit',
      min: 0,
      max: 1,
      thresholds: [{ value: 0.9, color: 'orange' }],
      width: 12,
      queries: [
        {
          expr: `sum(${m.workerActiveJobs.name}{${ns}}) / sum(${m.workerConcurrency.name}{${ns}})`,
          legend: 'busy',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Queue jobs by state',
      description: 'Jobs in the video queue by BullMQ state, as Redis reports them.',
      unit: 'short',
      width: 12,
      queries: [{ expr: `max by (state) (${m.queueJobs.name}{${ns}})`, legend: '{{state}}' }],
    },
    {
      kind: 'timeseries',
      title: 'Render time per video second',
      description:
        'Seconds of wall time spent from a job starting to its video being published, per second of published video. Below 1 renders faster than real time.',
      unit: 'suffix: s per video s',
      width: 12,
      queries: [
        {
          expr: `sum(rate(${render}_sum{${ns}}[$__rate_interval]))
/
sum(rate(${m.videoLength.name}_sum{${ns}}[$__rate_interval]))`,
          legend: 'render s per video s',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Video render duration p50 / p95',
      description: 'Wall time from a job starting to run to its video being published.',
      unit: 's',
      width: 12,
      queries: [
        {
          expr: `histogram_quantile(0.5, sum by (le) (rate(${render}_bucket{${ns}}[$__rate_interval])))`,
          legend: 'p50',
        },
        {
          expr: `histogram_quantile(0.95, sum by (le) (rate(${render}_bucket{${ns}}[$__rate_interval])))`,
          legend: 'p95',
          exemplars: true,
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Retries and stalled jobs',
      description:
        'Job attempts after the first (retries with backoff) and jobs whose worker stopped renewing the lock and were recovered by another worker, per interval.',
      unit: 'short',
      width: 24,
      queries: [
        { expr: `sum(increase(${m.jobRetries.name}{${ns}}[$__rate_interval]))`, legend: 'retries' },
        { expr: `sum(increase(${m.jobsStalled.name}{${ns}}[$__rate_interval]))`, legend: 'stalled' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Videos reconciled from Postgres',
      description:
        'Reconciler passes that failed, and videos Postgres still called queued or running with no live job in the queue: requeued (Redis lost the job, or the API crashed between commit and enqueue) or failed (the queue gave up without the worker recording it). Anything but zero after a Redis restart is the reconciler doing its job; a steady rate is a bug to look into.',
      unit: 'short',
      width: 24,
      queries: [
        {
          expr: `sum by (action, reason) (increase(${m.reconcilerActions.name}{${ns}}[$__rate_interval]))`,
          legend: '{{action}} ({{reason}})',
        },
        {
          expr: `sum(increase(${m.reconcilerRuns.name}{${ns},outcome="error"}[$__rate_interval]))`,
          legend: 'failed passes',
        },
      ],
    },
  ],
};
