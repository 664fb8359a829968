import { metricCatalog } from '../../runtime/contract/metrics.js';
import { ns } from '../panels.js';
import type { DashboardSpec } from '../panels.js';
import { thresholds } from '../rules/alerts.js';
import { sloRequests } from '../rules/slis.js';

const m = metricCatalog;
const finished = m.videosFinished.name;
const http = m.httpRequestDuration.name;

export const overviewDashboard: DashboardSpec = {
  uid: 'archibald-overview',
  title: 'Archibald / Overview',
  description:
    'The service level indicators at a glance: are videos being made, at what cost, and is the API fast.',
  tags: ['archibald'],
  panels: [
    {
      kind: 'stat',
      title: 'Success rate (1h)',
      description:
        'Completed videos out of all that finished (completed or failed) in the last hour. Cancelled videos are left out. LowSuccessRate pages below 90%.',
      unit: 'percentunit',
      decimals: 1,
      min: 0,
      max: 1,
      baseColor: 'red',
      thresholds: [{ value: thresholds.successRatio, color: 'green' }],
      width: 4,
      height: 5,
      queries: [
        {
          expr: `(sum(rate(${finished}{outcome="completed", ${ns}}[1h])) or vector(0))
/
sum(rate(${finished}{outcome=~"completed|failed", ${ns}}[1h]))`,
        },
      ],
    },
    {
      kind: 'stat',
      title: 'Cost per video (1h)',
      description:
        'Average provider cost of the videos completed in the last hour (zero when rendered offline). HighCostPerVideo warns above 0.10 USD.',
      unit: 'currencyUSD',
      decimals: 3,
      thresholds: [{ value: thresholds.costPerVideoUsd, color: 'orange' }],
      width: 4,
      height: 5,
      queries: [
        {
          expr: `sum(rate(${m.videoCost.name}_sum{${ns}}[1h]))
/
sum(rate(${m.videoCost.name}_count{${ns}}[1h]))`,
        },
      ],
    },
    {
      kind: 'stat',
      title: 'Videos per hour',
      description: 'Videos completed in the last hour.',
      unit: 'short',
      decimals: 0,
      width: 4,
      height: 5,
      queries: [{ expr: `sum(increase(${finished}{outcome="completed", ${ns}}[1h]))` }],
    },
    {
      kind: 'stat',
      title: 'Queue depth',
      description:
        'Jobs waiting for a worker: waiting, prioritized and delayed (retries in backoff). Every API replica reports the same queue, so the replicas are not added up.',
      unit: 'short',
      decimals: 0,
      thresholds: [{ value: 50, color: 'orange' }],
      width: 4,
      height: 5,
      queries: [
        {
          expr: `sum(max by (namespace, state) (${m.queueJobs.name}{state=~"waiting|prioritized|delayed", ${ns}}))`,
        },
      ],
    },
    {
      kind: 'stat',
      title: 'API p95 latency (5m)',
      description:
        '95th percentile duration of API calls (/v1 routes, without event streams and downloads) over the last 5 minutes. The objective is 95% of them within 200 ms.',
      unit: 's',
      thresholds: [{ value: 0.2, color: 'red' }],
      width: 4,
      height: 5,
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (le) (rate(${http}_bucket{${sloRequests.latency}, ${ns}}[5m])))`,
        },
      ],
    },
    {
      kind: 'stat',
      title: 'API error rate (5m)',
      description:
        'Share of API calls (/v1 routes) answered with a 5xx status over the last 5 minutes. The availability objective is 99.9%, so 0.1% is the whole error budget.',
      unit: 'percentunit',
      decimals: 2,
      thresholds: [{ value: 0.001, color: 'red' }],
      width: 4,
      height: 5,
      queries: [
        {
          expr: `(sum(rate(${http}_count{${sloRequests.availability}, status_code=~"5..", ${ns}}[5m])) or vector(0))
/
sum(rate(${http}_count{${sloRequests.availability}, ${ns}}[5m]))`,
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Videos finished per hour, by outcome',
      description:
        'Rate at which videos reach a final state, per hour, split by completed, failed and cancelled.',
      unit: 'short',
      width: 12,
      stacked: true,
      queries: [
        {
          expr: `sum by (outcome) (rate(${finished}{${ns}}[$__rate_interval])) * 3600`,
          legend: '{{outcome}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'API requests per second, by status',
      description: 'Requests the API answered per second, by HTTP status code.',
      unit: 'reqps',
      width: 12,
      stacked: true,
      queries: [
        {
          expr: `sum by (status_code) (rate(${http}_count{${ns}}[$__rate_interval]))`,
          legend: '{{status_code}}',
        },
      ],
    },
  ],
};
