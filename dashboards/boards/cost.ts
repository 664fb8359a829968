import { metricCatalog } from '../../runtime/contract/metrics.js';
import { ns } from '../panels.js';
import type { DashboardSpec } from '../panels.js';
import { thresholds } from '../rules/alerts.js';

const m = metricCatalog;
const cost = m.videoCost.name;
const provider = m.providerCost.name;
const calls = m.providerCalls.name;
const skips = m.providerSkips.name;
const modelCost = m.providerModelCost.name;
const escalations = m.providerEscalations.name;
const callSeconds = m.providerCallDuration.name;
const units = m.providerUnits.name;
const circuitOpen = m.providerCircuitOpen.name;
const fallbacks = m.providerFallbacks.name;
const cacheRequests = m.scriptCacheRequests.name;
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
        'Average provider cost the videos completed in each interval recorded. HighCostPerVideo warns when all provider spend (failed and retried attempts included) per completed video stays above 0.10 USD for 5 minutes.',
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
      title: 'Spend per provider and model (USD per hour)',
      description:
        'Spend on each paid model, priced from each answer, as US dollars per hour. None when no provider key is set.',
      unit: 'currencyUSD',
      decimals: 3,
      width: 12,
      stacked: true,
      queries: [
        {
          expr: `sum by (provider, model) (rate(${modelCost}{${ns}}[$__rate_interval])) * 3600 or vector(0)`,
          legend: '{{provider}} {{model}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Escalation and fallback rate',
      description:
        "Share of paid calls whose unusable answer moved the task to the provider's next model (escalation), and tasks per call that ended at the offline fallback.",
      unit: 'percentunit',
      min: 0,
      width: 12,
      queries: [
        {
          // No calls (offline rendering): a zero rather than "No data" or a division by zero.
          expr: `(sum(rate(${escalations}{${ns}}[$__rate_interval])) or vector(0))
/
clamp_min(sum(rate(${calls}{${ns}}[$__rate_interval])) or vector(0), 1e-9)`,
          legend: 'escalations',
        },
        {
          expr: `(sum(rate(${fallbacks}{${ns}}[$__rate_interval])) or vector(0))
/
clamp_min(sum(rate(${calls}{${ns}}[$__rate_interval])) or vector(0), 1e-9)`,
          legend: 'fallbacks',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Provider calls',
      description:
        'Calls to paid models by provider, model and outcome (ok, invalid: failed validation, error: failed after retries). None when no provider key is set.',
      unit: 'reqps',
      width: 8,
      stacked: true,
      queries: [
        {
          // Offline rendering makes no calls: show a zero rather than "No data".
          expr: `sum by (provider, model, outcome) (rate(${calls}{${ns}}[$__rate_interval])) or vector(0)`,
          legend: '{{provider}} {{model}} {{outcome}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Provider models skipped',
      description:
        'Models not called: circuit_open (cooling down after repeated failures) or budget (the call could cross VIDEO_BUDGET_USD).',
      unit: 'short',
      width: 8,
      stacked: true,
      queries: [
        {
          expr: `sum by (provider, model, reason) (increase(${skips}{${ns}}[$__rate_interval])) or vector(0)`,
          legend: '{{provider}} {{model}} {{reason}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Provider call latency (p95)',
      description: '95th percentile wall time of one paid call, retries included, by provider and model.',
      unit: 's',
      width: 8,
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (provider, model, le) (rate(${callSeconds}_bucket{${ns}}[$__rate_interval])))`,
          legend: '{{provider}} {{model}}',
          exemplars: true,
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Billed units per hour',
      description:
        'What the paid models bill by (tokens, characters, images), per hour, by provider and model.',
      unit: 'short',
      width: 8,
      stacked: true,
      queries: [
        {
          expr: `sum by (provider, model, unit) (rate(${units}{${ns}}[$__rate_interval])) * 3600 or vector(0)`,
          legend: '{{provider}} {{model}} {{unit}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Workers skipping a model (open circuit)',
      description:
        'Workers whose circuit for a model is open (skipping it for a cool-down after repeated failures), by provider and model. Zero when every circuit is closed.',
      unit: 'short',
      decimals: 0,
      min: 0,
      width: 8,
      stacked: true,
      queries: [
        {
          expr: `sum by (provider, model) (${circuitOpen}{${ns}}) or vector(0)`,
          legend: '{{provider}} {{model}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Script cache hit rate',
      description:
        'Share of script requests served from the response cache (a model-written script reused at no cost). None when the cache is off or scripts are written offline.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      width: 8,
      queries: [
        {
          expr: `(sum(rate(${cacheRequests}{result="hit", ${ns}}[$__rate_interval])) or vector(0))
/
clamp_min(sum(rate(${cacheRequests}{${ns}}[$__rate_interval])) or vector(0), 1e-9)`,
          legend: 'hit rate',
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
