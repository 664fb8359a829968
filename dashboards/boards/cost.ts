import { metricCatalog } from '../../runtime/contract/metrics.js';
import { ns } from '../panels.js';
import type { DashboardSpec } from '../panels.js';
import { thresholds } from '../rules/alerts.js';

const m = metricCatalog;
const cost = m.videoCost.name;
const provider = m.providerCost.name;
const calls = m.scriptModelCalls.name;
const skips = m.scriptModelSkips.name;
const written = m.scriptsWritten.name;

export const costDashboard: DashboardSpec = {
  uid: 'archibald-cost',
  title: 'Archibald / Cost',
  description:
    'What the videos cost: per video and per external provider (Anthropic, ElevenLabs, FAL when configured; zero when rendering offline).',
  tags: ['archibald'],
  panels: [
    {
      kind: 'timeseries',
      title: 'Cost per video',
      description:
        'Average provider cost of the videos completed in each interval. HighCostPerVideo warns above 0.10 USD over 5 minutes.',
      unit: 'currencyUSD',
      decimals: 3,
      thresholds: [{ value: thresholds.costPerVideoUsd, color: 'orange' }],
      width: 12,
      queries: [
        {
          expr: `sum(rate(${cost}_sum{${ns}}[$__rate_interval]))
/
sum(rate(${cost}_count{${ns}}[$__rate_interval]))`,
          legend: 'average',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Videos above the cost budget',
      description: 'Share of completed videos that cost more than 0.10 USD each.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      width: 12,
      queries: [
        {
          expr: `1 - (
  sum(rate(${cost}_bucket{le="${thresholds.costPerVideoUsd}", ${ns}}[$__rate_interval]))
  /
  sum(rate(${cost}_count{${ns}}[$__rate_interval]))
)`,
          legend: 'above 0.10 USD',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Spend per provider (USD per hour)',
      description:
        'Spend on each external provider, as a rate in US dollars per hour. Offline providers report zero.',
      unit: 'currencyUSD',
      decimals: 2,
      width: 12,
      stacked: true,
      queries: [
        {
          // Offline rendering has no provider series: show a zero rather than "No data".
          expr: `sum by (provider) (rate(${provider}{${ns}}[$__rate_interval])) * 3600 or vector(0)`,
          legend: '{{provider}}',
        },
      ],
    },
    {
      kind: 'stat',
      title: 'Spend in the selected range, by provider',
      description: 'Total spend on each external provider over the dashboard time range.',
      unit: 'currencyUSD',
      decimals: 2,
      width: 12,
      queries: [
        {
          expr: `sum by (provider) (increase(${provider}{${ns}}[$__range])) or vector(0)`,
          legend: '{{provider}}',
        },
      ],
    },
    {
      kind: 'stat',
      title: 'Spend in the last 24 hours',
      description: 'Total provider spend in the last 24 hours, all providers together.',
      unit: 'currencyUSD',
      decimals: 2,
      width: 12,
      height: 5,
      queries: [{ expr: `sum(increase(${provider}{${ns}}[1d])) or vector(0)` }],
    },
    {
      kind: 'stat',
      title: 'Videos completed in the last 24 hours',
      description: 'Videos completed in the last 24 hours: the denominator of the cost per video.',
      unit: 'short',
      decimals: 0,
      width: 12,
      height: 5,
      queries: [{ expr: `sum(increase(${cost}_count{${ns}}[1d]))` }],
    },
    {
      kind: 'timeseries',
      title: 'Script model calls',
      description:
        'Calls to the script-writing models by model and outcome (ok, invalid: escalated, error: failed after retries). None when ANTHROPIC_API_KEY is unset.',
      unit: 'reqps',
      width: 8,
      stacked: true,
      queries: [
        {
          // Offline rendering makes no calls: show a zero rather than "No data".
          expr: `sum by (model, outcome) (rate(${calls}{${ns}}[$__rate_interval])) or vector(0)`,
          legend: '{{model}} {{outcome}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Script models skipped',
      description:
        'Models not called: circuit_open (cooling down after repeated failures) or budget (the call could cross VIDEO_BUDGET_USD).',
      unit: 'short',
      width: 8,
      stacked: true,
      queries: [
        {
          expr: `sum by (model, reason) (increase(${skips}{${ns}}[$__rate_interval])) or vector(0)`,
          legend: '{{model}} {{reason}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Scripts by writer',
      description:
        'Scripts written by each writer: the cheap model, the premium model (an escalation) or the offline writer (no key, or the fallback).',
      unit: 'percentunit',
      min: 0,
      max: 1,
      width: 8,
      stacked: true,
      queries: [
        {
          expr: `sum by (writer) (rate(${written}{${ns}}[$__rate_interval]))
/ on() group_left()
sum(rate(${written}{${ns}}[$__rate_interval]))`,
          legend: '{{writer}}',
        },
      ],
    },
  ],
};
