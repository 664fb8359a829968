import type { Tier } from '../tiers.js';

/** RDS PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000). */
export function rdsMaxConnections(instanceMemoryGiB: number): number {
  return Math.min(Math.floor((instanceMemoryGiB * 1024 ** 3) / 9_531_392), 5000);
}

/** Connections held back for migrations, exporters and operators' psql sessions. */
const RESERVED_CONNECTIONS = 20;

/**
 * Pool size per runtime process so that every API and worker pod at its autoscaling ceiling,
 * together, stays under the primary's max_connections.
 */
export function poolMaxPerProcess(tier: Tier): number {
  const processes = tier.api.maxReplicas + tier.scale.workers;
  const available = rdsMaxConnections(tier.postgres.instanceMemoryGiB) - RESERVED_CONNECTIONS;
  const pool = Math.floor(available / processes);
  if (pool < 2) {
    throw new Error(
      `tier ${tier.name}: ${processes} processes leave ${pool} connections each on ${tier.postgres.instanceClass}; use a larger instance`,
    );
  }
  return Math.min(pool, 20);
}

export interface DatabaseTopology {
  readonly primaryMultiAz: boolean;
  readonly readReplicas: number;
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  readonly skipFinalSnapshot: boolean;
}

export function databaseTopology(tier: Tier): DatabaseTopology {
  return {
    primaryMultiAz: tier.postgres.multiAz,
    readReplicas: tier.postgres.readReplicas,
    backupRetentionDays: tier.postgres.backupRetentionDays,
    deletionProtection: tier.postgres.deletionProtection,
    // A final snapshot wherever the data is protected (staging, prod, enterprise).
    skipFinalSnapshot: !tier.postgres.deletionProtection,
  };
}
