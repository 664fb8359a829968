/**
 * Provider events as rows in Postgres (db/provider-records.ts), so the API can report what the
 * workers' calls did. A row that cannot be written is logged and dropped: the records are for
 * the stats, and a video never waits on them or fails for them.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { insertProviderRecord, type ProviderRecord } from '../db/provider-records.js';
import type { ProviderEvents } from '../pipeline/stages.js';

export function postgresProviderRecords(pool: pg.Pool, log: Logger): ProviderEvents {
  const write = (record: ProviderRecord) => {
    insertProviderRecord(pool, record).catch((error: unknown) =>
      log.warn({ err: error, kind: record.kind }, 'could not record a provider event; the stats miss it'),
    );
  };
  return {
    call: (call) => write({ kind: 'call', ...call }),
    skip: (provider, model, reason) => write({ kind: 'skip', provider, model, reason }),
    // Who served a task is on the video's script output and in the metrics; no row needed.
    served: () => {},
    delegation: (event) => write(event),
  };
}

/** One ProviderEvents that tells each of `targets` everything. */
export function allEvents(...targets: ProviderEvents[]): ProviderEvents {
  return {
    call: (call) => targets.forEach((t) => t.call(call)),
    skip: (provider, model, reason) => targets.forEach((t) => t.skip(provider, model, reason)),
    served: (task, by) => targets.forEach((t) => t.served(task, by)),
    delegation: (event) => targets.forEach((t) => t.delegation?.(event)),
  };
}
