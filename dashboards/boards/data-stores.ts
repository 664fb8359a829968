import { exporters } from '../exporters.js';
import type { DashboardSpec } from '../panels.js';
import { thresholds } from '../rules/alerts.js';

const redis = exporters.redis.metrics;
const pg = exporters.postgres.metrics;
const cnpg = exporters.cloudNativePg.metrics;

// The exporters run beside the data stores, often in another namespace than the runtime, so these
// panels show every instance rather than filtering on the namespace variable.
export const dataStoresDashboard: DashboardSpec = {
  uid: 'archibald-data-stores',
  title: 'Archibald / Data stores',
  description:
    'Redis (the queue) and Postgres (the records), from redis_exporter, postgres_exporter and CloudNativePG, which the monitoring component deploys.',
  tags: ['archibald'],
  panels: [
    {
      kind: 'timeseries',
      title: 'Redis memory used and limit',
      description:
        'Bytes Redis has allocated against its maxmemory limit, per instance. A limit of 0 means none.',
      unit: 'bytes',
      width: 12,
      queries: [
        { expr: `sum by (instance) (${redis.memoryUsed.name})`, legend: 'used {{instance}}' },
        { expr: `max by (instance) (${redis.memoryMax.name})`, legend: 'limit {{instance}}' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Redis memory used of limit',
      description: 'Share of maxmemory in use, per instance. RedisMemoryNearLimit warns above 90%.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      thresholds: [{ value: thresholds.redisMemoryRatio, color: 'red' }],
      width: 12,
      queries: [
        {
          expr: `${redis.memoryUsed.name} / (${redis.memoryMax.name} > 0)`,
          legend: '{{instance}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Redis commands per second',
      description: 'Commands Redis processed per second, per instance.',
      unit: 'ops',
      width: 12,
      queries: [
        {
          expr: `sum by (instance) (rate(${redis.commandsProcessed.name}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Redis clients',
      description: 'Client connections open to each Redis instance (API, workers and the exporter).',
      unit: 'short',
      width: 12,
      queries: [{ expr: `sum by (instance) (${redis.connectedClients.name})`, legend: '{{instance}}' }],
    },
    {
      kind: 'timeseries',
      title: 'Postgres connections',
      description: 'Connections open per Postgres instance against its max_connections.',
      unit: 'short',
      width: 12,
      queries: [
        { expr: `sum by (instance) (${pg.backends.name})`, legend: 'open {{instance}}' },
        { expr: `max by (instance) (${pg.maxConnections.name})`, legend: 'max {{instance}}' },
        { expr: `sum by (pod) (${cnpg.backendsTotal.name})`, legend: 'open {{pod}}' },
      ],
    },
    {
      kind: 'timeseries',
      title: 'Postgres replica lag',
      description: 'Seconds each read replica is behind the primary. PostgresReplicaLag warns above 30 s.',
      unit: 's',
      thresholds: [{ value: thresholds.replicaLagSeconds, color: 'red' }],
      width: 12,
      queries: [
        { expr: `max by (instance) (${pg.replicationLag.name})`, legend: '{{instance}}' },
        { expr: `max by (pod) (${cnpg.replicationLag.name})`, legend: '{{pod}}' },
      ],
    },
    {
      kind: 'stat',
      title: 'Exporters reaching their store',
      description: 'Whether each exporter reached its Redis or Postgres at the last scrape (1 yes, 0 no).',
      unit: 'bool_yes_no',
      baseColor: 'red',
      thresholds: [{ value: 1, color: 'green' }],
      width: 24,
      height: 5,
      queries: [
        { expr: `${redis.up.name}`, legend: 'redis {{instance}}' },
        { expr: `${pg.up.name}`, legend: 'postgres {{instance}}' },
      ],
    },
  ],
};
