/**
 * The third-party metrics the dashboards and rules use, by the exporter that exposes them. Like
 * the runtime's catalog for archibald_* names, this is the only place such a name is written;
 * a test checks every query uses names from one of the two.
 */

export interface ExporterMetric {
  readonly name: string;
  readonly help: string;
}

export interface Exporter {
  readonly title: string;
  /** Where the metrics come from, for the operator reading a runbook. */
  readonly source: string;
  readonly metrics: Readonly<Record<string, ExporterMetric>>;
}

export const exporters = {
  prometheus: {
    title: 'Prometheus',
    source: 'Prometheus itself: one `up` series per scrape target',
    metrics: {
      up: { name: 'up', help: '1 when the last scrape of the target succeeded, 0 when it failed.' },
    },
  },
  kubeStateMetrics: {
    title: 'kube-state-metrics',
    source: 'kube-state-metrics, deployed by kube-prometheus-stack',
    metrics: {
      jobFailed: {
        name: 'kube_job_failed',
        help: 'A Kubernetes Job\'s Failed condition; the series with condition="true" is 1 once it failed.',
      },
    },
  },
  redis: {
    title: 'redis_exporter',
    source: 'oliver006/redis_exporter, deployed by the monitoring component next to Redis',
    metrics: {
      up: { name: 'redis_up', help: '1 when the exporter reached Redis.' },
      memoryUsed: { name: 'redis_memory_used_bytes', help: 'Bytes Redis has allocated (used_memory).' },
      memoryMax: {
        name: 'redis_memory_max_bytes',
        help: 'The maxmemory setting; 0 means no limit.',
      },
      commandsProcessed: {
        name: 'redis_commands_processed_total',
        help: 'Commands Redis has processed.',
      },
      connectedClients: { name: 'redis_connected_clients', help: 'Client connections open now.' },
    },
  },
  postgres: {
    title: 'postgres_exporter',
    source: 'prometheus-community/postgres_exporter, deployed by the monitoring component',
    metrics: {
      up: { name: 'pg_up', help: '1 when the exporter reached Postgres.' },
      backends: {
        name: 'pg_stat_database_numbackends',
        help: 'Connections open to each database.',
      },
      maxConnections: { name: 'pg_settings_max_connections', help: 'The max_connections setting.' },
      replicationLag: {
        name: 'pg_replication_lag_seconds',
        help: 'On a replica, seconds since the last replayed transaction (0 on the primary).',
      },
    },
  },
  cloudNativePg: {
    title: 'CloudNativePG',
    source: "the CloudNativePG operator's instance metrics (in-cluster Postgres of the dev stack)",
    metrics: {
      replicationLag: {
        name: 'cnpg_pg_replication_lag',
        help: 'On a replica, seconds of replication lag behind the primary.',
      },
      backendsTotal: {
        name: 'cnpg_backends_total',
        help: 'Backends (connections) open on the instance.',
      },
    },
  },
  vault: {
    title: 'Vault telemetry',
    source: "Vault's own /v1/sys/metrics?format=prometheus endpoint",
    metrics: {
      unsealed: { name: 'vault_core_unsealed', help: '1 when this Vault node is unsealed, 0 when sealed.' },
    },
  },
} as const satisfies Record<string, Exporter>;

/** Every third-party metric name the dashboards and rules may use. */
export const exporterMetricNames: ReadonlySet<string> = new Set(
  Object.values(exporters).flatMap((e) => Object.values(e.metrics).map((m: ExporterMetric) => m.name)),
);
