/**
 * Keeps delegation's memory bounded: patterns unused for PATTERN_RETENTION_HOURS and provider
 * records older than PROVIDER_CALL_RETENTION_HOURS are deleted. Every worker runs it now and then
 * (as it runs the reconciler); a transaction-scoped advisory lock lets one pass run at a time.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/pool.js';
import { prunePatterns } from '../db/pattern-memory.js';
import { pruneProviderRecords } from '../db/provider-records.js';
import { inTransaction } from '../db/transaction.js';
import { startPeriodic } from './periodic.js';

/** pg advisory lock key of the retention pass (fixed forever, distinct from the reconciler's). */
export const RETENTION_LOCK_KEY = 7_165_031_146_020_119_554n;
/** Retention is counted in hours: a pass every few minutes keeps it within a few minutes of exact. */
export const RETENTION_INTERVAL_SECONDS = 300;

export interface RetentionOptions {
  db: Database;
  log: Logger;
  patternRetentionHours: number;
  callRetentionHours: number;
}

export interface RetentionReport {
  /** False when another worker held the lock and this pass did nothing. */
  ran: boolean;
  patterns: number;
  records: number;
}

/** One pass; safe to call from every worker at once. */
export async function pruneOnce(o: RetentionOptions): Promise<RetentionReport> {
  return inTransaction<RetentionReport>(o.db.primary, async (client) => {
    const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
      RETENTION_LOCK_KEY.toString(),
    ]);
    if (!lock.rows[0]?.locked) return { ran: false, patterns: 0, records: 0 };
    return {
      ran: true,
      patterns: await prunePatterns(client, o.patternRetentionHours),
      records: await pruneProviderRecords(client, o.callRetentionHours),
    };
  });
}

/** Runs pruneOnce now and every intervalSeconds until stopped; a failed pass is logged. */
export function startRetention(o: RetentionOptions & { intervalSeconds: number }): { stop(): Promise<void> } {
  return startPeriodic({
    intervalSeconds: o.intervalSeconds,
    run: () => pruneOnce(o),
    done: (report) => {
      if (report.patterns + report.records > 0)
        o.log.info({ patterns: report.patterns, records: report.records }, 'delegation memory pruned');
    },
    failed: (error) =>
      o.log.warn({ err: error }, 'delegation memory retention failed; the next pass retries'),
  });
}
