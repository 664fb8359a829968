/**
 * Observability as code, for the monitoring component and `npm run dashboards`: the Grafana
 * dashboards, the Prometheus rule groups and the Alertmanager configuration, all built from the
 * runtime's metric catalog and dashboards/exporters.ts.
 */
import { buildDashboard } from './panels.js';
import { apiDashboard } from './boards/api.js';
import { costDashboard } from './boards/cost.js';
import { dataStoresDashboard } from './boards/data-stores.js';
import { overviewDashboard } from './boards/overview.js';
import { pipelineDashboard } from './boards/pipeline.js';

export {
  buildAlertmanagerConfig,
  buildAlertmanagerConfigFromFiles,
  CHAT_RECEIVER,
  PAGER_RECEIVER,
} from './alertmanager.js';
export type { AlertReceiverFiles, AlertReceivers } from './alertmanager.js';
export { buildRuleGroups, DEFAULT_RUNBOOK_BASE_URL, alertNames } from './rules/index.js';
export type { RuleGroupOptions } from './rules/index.js';
export type { RuleGroup, AlertRule, RecordingRule } from './rules/types.js';
export { backupJobNamePattern, scrapeJobs } from './conventions.js';
export { DASHBOARD_FOLDER } from './panels.js';

export const dashboardSpecs = [
  overviewDashboard,
  pipelineDashboard,
  apiDashboard,
  costDashboard,
  dataStoresDashboard,
];

export function buildDashboards(): Array<{ uid: string; title: string; folder: string; json: object }> {
  return dashboardSpecs.map(buildDashboard);
}
