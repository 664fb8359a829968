/**
 * The record of every paid provider call and delegation step, shared between the workers that
 * make the calls and the API that reports them (/delegation/stats). Kept for
 * PROVIDER_CALL_RETENTION_HOURS by the worker's retention pass.
 */
import type pg from 'pg';
import type { DelegationEvent, ProviderCall, SkipReason } from '../providers/provider-events.js';

export type ProviderRecord =
  | ({ kind: 'call' } & ProviderCall)
  | { kind: 'skip'; provider: string; model: string; reason: SkipReason }
  | DelegationEvent;

export async function insertProviderRecord(pool: pg.Pool, record: ProviderRecord): Promise<void> {
  const row = (() => {
    switch (record.kind) {
      case 'call':
        return [
          'call',
          null,
          record.provider,
          record.model,
          record.outcome,
          record.latencyMs,
          record.units,
          record.unit,
          record.costUsd,
        ];
      case 'skip':
        return ['skip', null, record.provider, record.model, record.reason, null, 0, null, 0];
      case 'cache':
        return ['cache', record.task, record.provider, record.model ?? '', record.result, null, 0, null, 0];
      default:
        return [record.kind, record.task, record.provider, record.model, null, null, 0, null, 0];
    }
  })();
  await pool.query(
    `INSERT INTO provider_events (kind, task, provider, model, outcome, latency_ms, units, unit, cost_usd)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    row,
  );
}

export interface ModelStats {
  provider: string;
  model: string;
  calls: number;
  successes: number;
  validationFailures: number;
  errors: number;
  escalations: number;
  fallbacks: number;
  skips: number;
  /** null when no call was made. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  /** Billed units by unit (tokens, characters, images). */
  units: Record<string, number>;
  costUsd: number;
  /** Requests served from the response cache with a script this model wrote. */
  cacheHits: number;
}

/** Per provider and model, over the retained records. */
export async function modelStats(pool: pg.Pool): Promise<ModelStats[]> {
  const { rows } = await pool.query<Omit<ModelStats, 'units'>>(
    `SELECT provider, model,
       count(*) FILTER (WHERE kind = 'call')::int AS calls,
       count(*) FILTER (WHERE kind = 'call' AND outcome = 'ok')::int AS successes,
       count(*) FILTER (WHERE kind = 'call' AND outcome = 'invalid')::int AS "validationFailures",
       count(*) FILTER (WHERE kind = 'call' AND outcome = 'error')::int AS errors,
       count(*) FILTER (WHERE kind = 'escalation')::int AS escalations,
       count(*) FILTER (WHERE kind = 'fallback')::int AS fallbacks,
       count(*) FILTER (WHERE kind = 'skip')::int AS skips,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE kind = 'call') AS "latencyP50Ms",
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE kind = 'call') AS "latencyP95Ms",
       sum(cost_usd)::float8 AS "costUsd",
       count(*) FILTER (WHERE kind = 'cache' AND outcome = 'hit')::int AS "cacheHits"
     FROM provider_events
     WHERE model <> ''
     GROUP BY provider, model
     ORDER BY provider, model`,
  );
  const units = await pool.query<{ provider: string; model: string; unit: string; units: string }>(
    `SELECT provider, model, unit, sum(units)::text AS units FROM provider_events
      WHERE kind = 'call' AND unit IS NOT NULL GROUP BY provider, model, unit`,
  );
  return rows.map((r) => ({
    ...r,
    units: Object.fromEntries(
      units.rows
        .filter((u) => u.provider === r.provider && u.model === r.model)
        .map((u) => [u.unit, Number(u.units)]),
    ),
  }));
}

export interface CacheStats {
  hits: number;
  misses: number;
}

/** Response-cache lookups by task (scripts today), over the retained records. */
export async function cacheStats(pool: pg.Pool): Promise<Record<string, CacheStats>> {
  const { rows } = await pool.query<{ task: string; hits: number; misses: number }>(
    `SELECT task, count(*) FILTER (WHERE outcome = 'hit')::int AS hits,
            count(*) FILTER (WHERE outcome = 'miss')::int AS misses
       FROM provider_events WHERE kind = 'cache' GROUP BY task`,
  );
  return Object.fromEntries(rows.map((r) => [r.task, { hits: r.hits, misses: r.misses }]));
}

export interface VideoCostWindow {
  videos: number;
  /** null when no video completed in the window. */
  averageCostUsd: number | null;
}

/** Average recorded cost of the videos completed in the last `hours`. */
export async function costPerCompletedVideo(pool: pg.Pool, hours: number): Promise<VideoCostWindow> {
  const { rows } = await pool.query<VideoCostWindow>(
    `SELECT count(*)::int AS videos, avg(cost_usd)::float8 AS "averageCostUsd" FROM videos
      WHERE status = 'completed' AND finished_at > now() - make_interval(hours => $1)`,
    [hours],
  );
  return rows[0] ?? { videos: 0, averageCostUsd: null };
}

/** Removes records older than `hours`; returns how many. */
export async function pruneProviderRecords(client: pg.Pool | pg.PoolClient, hours: number): Promise<number> {
  const result = await client.query(
    `DELETE FROM provider_events WHERE at < now() - make_interval(hours => $1)`,
    [hours],
  );
  return result.rowCount ?? 0;
}
