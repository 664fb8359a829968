import { metricCatalog } from '../../runtime/contract/metrics.js';
import { ns } from '../panels.js';
import type { DashboardSpec } from '../panels.js';
import { apiSlo, sli, sloRequests } from '../rules/slis.js';

const m = metricCatalog;
const http = m.httpRequestDuration.name;

function quantile(q: number, by: string, selector = ns): string {
  return `histogram_quantile(${q}, sum by (${by}) (rate(${http}_bucket{${selector}}[$__rate_interval])))`;
}

const latencyRequests = `${sloRequests.latency}, ${ns}`;

const burnThresholds = [
  { value: 1, color: 'yellow' },
  { value: 6, color: 'orange' },
  { value: 14.4, color: 'red' },
];

export const apiDashboard: DashboardSpec = {
  uid: 'archibald-api',
  title: 'Archibald / API',
  description:
    'The HTTP API: traffic by route, latency against the 200 ms objective, errors and rate limiting.',
  tags: ['archibald'],
  panels: [
    {
      kind: 'timeseries',
      title: 'Requests per second by route',
      description: 'Requests the API answered per second, by route template and method.',
      unit: 'reqps',
      width: 12,
      queries: [
        {
          expr: `sum by (route, method) (rate(${http}_count{${ns}}[$__rate_interval]))`,
          legend: '{{method}} {{route}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Latency p50 / p95 / p99',
      description:
        'Duration percentiles of API calls (/v1 routes, without event streams and downloads, which last as long as the client reads). The objective: 95% within 200 ms.',
      unit: 's',
      thresholds: [{ value: apiSlo.latencyThresholdSeconds, color: 'red' }],
      width: 12,
      queries: [
        { expr: quantile(0.5, 'le', latencyRequests), legend: 'p50' },
        { expr: quantile(0.95, 'le', latencyRequests), legend: 'p95', exemplars: true },
        { expr: quantile(0.99, 'le', latencyRequests), legend: 'p99' },
      ],
    },
    {
      kind: 'timeseries',
      title: '4xx and 5xx responses',
      description:
        'Client (4xx) and server (5xx) errors per second, by status code. Only 5xx count against availability.',
      unit: 'reqps',
      width: 12,
      stacked: true,
      queries: [
        {
          expr: `sum by (status_code) (rate(${http}_count{status_code=~"4..|5..", ${ns}}[$__rate_interval]))`,
          legend: '{{status_code}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Rate-limited requests',
      description:
        'Requests refused with 429 by the per-key rate limit or the per-address limit before authentication, per second, by route.',
      unit: 'reqps',
      width: 12,
      queries: [
        {
          expr: `sum by (route) (rate(${m.rateLimitedRequests.name}{${ns}}[$__rate_interval]))`,
          legend: '{{route}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'p95 latency by route',
      description:
        '95th percentile request duration per route template, every route (event streams and downloads included).',
      unit: 's',
      thresholds: [{ value: apiSlo.latencyThresholdSeconds, color: 'red' }],
      width: 24,
      queries: [{ expr: quantile(0.95, 'route, le'), legend: '{{route}}', exemplars: true }],
    },
    {
      kind: 'timeseries',
      title: 'Availability error budget burn rate',
      description:
        'How fast 5xx errors spend the 99.9% availability budget, over 1 hour and 6 hours (1 = exactly the sustainable pace). ApiErrorBudgetBurn pages at 14.4 (5m and 1h) or 6 (30m and 6h).',
      unit: 'none',
      decimals: 2,
      thresholds: burnThresholds,
      width: 12,
      queries: [
        {
          expr: `${sli.apiErrorRatio('1h')}{${ns}} / ${apiSlo.availabilityErrorBudget}`,
          legend: '1h {{namespace}}',
        },
        {
          expr: `${sli.apiErrorRatio('6h')}{${ns}} / ${apiSlo.availabilityErrorBudget}`,
          legend: '6h {{namespace}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Latency error budget burn rate',
      description:
        'How fast requests slower than 200 ms spend the budget of the latency objective (95% within 200 ms), over 1 hour and 6 hours. ApiLatencyBudgetBurn pages at 14.4 or 6.',
      unit: 'none',
      decimals: 2,
      thresholds: burnThresholds,
      width: 12,
      queries: [
        {
          expr: `${sli.apiSlowRatio('1h')}{${ns}} / ${apiSlo.latencyErrorBudget}`,
          legend: '1h {{namespace}}',
        },
        {
          expr: `${sli.apiSlowRatio('6h')}{${ns}} / ${apiSlo.latencyErrorBudget}`,
          legend: '6h {{namespace}}',
        },
      ],
    },
  ],
};
