/** The shapes of Prometheus rules, as written to the rules file and the PrometheusRule. */

export type Severity = 'critical' | 'warning';

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: Severity } & Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

/** An alert as defined here; its runbook_url is added when the groups are built. */
export type AlertDefinition = Omit<AlertRule, 'annotations'> & {
  annotations: Omit<AlertRule['annotations'], 'runbook_url'>;
};

export type Rule = RecordingRule | AlertRule;

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export function isAlertRule(rule: Rule): rule is AlertRule {
  return 'alert' in rule;
}
