/**
 * Names the monitoring component and the rules must agree on. The stacks produce them (Service
 * names or ServiceMonitor `jobLabel`, CronJob names); the alerts and dashboards select on them.
 */

/** The Prometheus `job` label of Archibald's own scrape targets. */
export const scrapeJobs = {
  api: 'archibald-api',
  worker: 'archibald-worker',
} as const;

/**
 * Kubernetes Jobs whose failure means a backup was not taken: the CronJobs' names contain one of
 * these words (for example `vault-raft-snapshot`).
 */
export const backupJobNamePattern = '.*(backup|snapshot).*';
