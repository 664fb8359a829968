/**
 * The rule groups, in the shape both a Prometheus rules file and a PrometheusRule's spec.groups
 * take. One definition feeds both, so they cannot drift.
 */
import { alertDefinitions } from './alerts.js';
import { sliRecordingRules } from './slis.js';
import type { AlertRule, RuleGroup } from './types.js';

export const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/archibald-platform/archibald/blob/main/runbooks';

export interface RuleGroupOptions {
  /** Where runbooks/<AlertName>.md are served; the repository's runbooks folder by default. */
  runbookBaseUrl?: string;
}

export function runbookUrl(alert: string, runbookBaseUrl = DEFAULT_RUNBOOK_BASE_URL): string {
  return `${runbookBaseUrl.replace(/\/+$/, '')}/${alert}.md`;
}

export function buildRuleGroups(opts: RuleGroupOptions = {}): RuleGroup[] {
  const base = opts.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL;
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new Error(`runbookBaseUrl is not an absolute URL: ${JSON.stringify(base)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`runbookBaseUrl must be an http(s) URL: ${JSON.stringify(base)}`);
  }
  const alerts: AlertRule[] = alertDefinitions.map((a) => ({
    ...a,
    labels: { ...a.labels },
    annotations: { ...a.annotations, runbook_url: runbookUrl(a.alert, base) },
  }));
  return [
    { name: 'archibald.slis', rules: sliRecordingRules.map((r) => ({ ...r })) },
    { name: 'archibald.alerts', rules: alerts },
  ];
}

/** The names of every alert, each once (an alert may have a critical and a warning rule). */
export function alertNames(): string[] {
  return [...new Set(alertDefinitions.map((a) => a.alert))];
}
