/**
 * Pattern memory in Postgres: per request pattern (style, duration band, topic class), how its
 * script writes went — which writer made the script, the cheap and premium models' answers,
 * validation failures, escalations, fallbacks, cost and latency (sums, so averages derive) and
 * when it was last used. The script writer asks it where a write starts (delegation.ts).
 *
 * Only answered calls count as a model's attempts: a call that failed (outage, timeout) says
 * nothing about the pattern, and the circuit breaker already handles a model that is down.
 */
import type pg from 'pg';
import type { Config } from '../config/load.js';
import type { VideoSpec } from '../pipeline/stage.js';
import {
  chooseStart,
  DEFAULT_POLICY,
  patternOf,
  type DelegationPolicy,
  type ModelResult,
  type Pattern,
  type PatternRecord,
  type ScriptDelegation,
  type StartModel,
  type WriteReport,
} from '../stages/script/delegation.js';

export interface PatternRow extends Pattern, PatternRecord {
  writes: number;
  premiumAttempts: number;
  premiumSuccesses: number;
  validationFailures: number;
  escalations: number;
  fallbacks: number;
  /** Scripts made for the pattern, by writer. */
  writers: Record<string, number>;
  lastWriter: string | null;
  costUsd: number;
  latencyMs: number;
  lastUsedAt: Date;
}

const COLUMNS = `style, duration_band AS "durationBand", topic_class AS "topicClass", writes,
  cheap_attempts AS "cheapAttempts", cheap_successes AS "cheapSuccesses",
  premium_attempts AS "premiumAttempts", premium_successes AS "premiumSuccesses",
  premium_streak AS "premiumStreak", validation_failures AS "validationFailures", escalations,
  fallbacks, writers, last_writer AS "lastWriter", cost_usd::float8 AS "costUsd",
  latency_ms AS "latencyMs", last_used_at AS "lastUsedAt"`;

export async function readPattern(pool: pg.Pool, pattern: Pattern): Promise<PatternRow | undefined> {
  const { rows } = await pool.query<PatternRow>(
    `SELECT ${COLUMNS} FROM delegation_patterns WHERE style = $1 AND duration_band = $2 AND topic_class = $3`,
    [pattern.style, pattern.durationBand, pattern.topicClass],
  );
  return rows[0];
}

/** Every pattern, most recently used first. */
export async function listPatterns(pool: pg.Pool): Promise<PatternRow[]> {
  const { rows } = await pool.query<PatternRow>(
    `SELECT ${COLUMNS} FROM delegation_patterns ORDER BY last_used_at DESC, style, duration_band, topic_class`,
  );
  return rows;
}

const answered = (r: ModelResult) => (r === 'ok' || r === 'invalid' ? 1 : 0);

/** Adds one write to its pattern's memory (one statement, so concurrent writers add up). */
export async function recordWrite(pool: pg.Pool, pattern: Pattern, report: WriteReport): Promise<void> {
  await pool.query(
    `INSERT INTO delegation_patterns AS p (style, duration_band, topic_class, writes, cheap_attempts,
       cheap_successes, premium_attempts, premium_successes, premium_streak, validation_failures,
       escalations, fallbacks, writers, last_writer, cost_usd, latency_ms, last_used_at)
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, jsonb_build_object($12::text, 1), $12, $13, $14, now())
     ON CONFLICT (style, duration_band, topic_class) DO UPDATE SET
       writes = p.writes + 1,
       cheap_attempts = p.cheap_attempts + EXCLUDED.cheap_attempts,
       cheap_successes = p.cheap_successes + EXCLUDED.cheap_successes,
       premium_attempts = p.premium_attempts + EXCLUDED.premium_attempts,
       premium_successes = p.premium_successes + EXCLUDED.premium_successes,
       -- A cheap answer ends a premium streak; a premium start lengthens it.
       premium_streak = CASE WHEN EXCLUDED.cheap_attempts > 0 THEN 0
                             ELSE p.premium_streak + EXCLUDED.premium_streak END,
       validation_failures = p.validation_failures + EXCLUDED.validation_failures,
       escalations = p.escalations + EXCLUDED.escalations,
       fallbacks = p.fallbacks + EXCLUDED.fallbacks,
       writers = p.writers || jsonb_build_object($12::text, coalesce((p.writers ->> $12)::int, 0) + 1),
       last_writer = EXCLUDED.last_writer,
       cost_usd = p.cost_usd + EXCLUDED.cost_usd,
       latency_ms = p.latency_ms + EXCLUDED.latency_ms,
       last_used_at = now()`,
    [
      pattern.style,
      pattern.durationBand,
      pattern.topicClass,
      answered(report.cheap),
      report.cheap === 'ok' ? 1 : 0,
      answered(report.premium),
      report.premium === 'ok' ? 1 : 0,
      report.start === 'premium' ? 1 : 0,
      report.validationFailures,
      report.escalated ? 1 : 0,
      report.fellBack ? 1 : 0,
      report.writer,
      report.costUsd,
      report.latencyMs,
    ],
  );
}

/** Removes patterns unused for `hours`; returns how many. */
export async function prunePatterns(client: pg.Pool | pg.PoolClient, hours: number): Promise<number> {
  const result = await client.query(
    `DELETE FROM delegation_patterns WHERE last_used_at < now() - make_interval(hours => $1)`,
    [hours],
  );
  return result.rowCount ?? 0;
}

/** The configured policy (PATTERN_MIN_ATTEMPTS, PATTERN_MIN_CHEAP_SUCCESS_RATE). */
export function policyFrom(config: Config['delegation']): DelegationPolicy {
  return {
    minAttempts: config.minAttempts,
    minCheapSuccessRate: config.minCheapSuccessRate,
    probeEvery: DEFAULT_POLICY.probeEvery,
  };
}

/** The script writer's delegation, backed by this memory. */
export class PatternMemory implements ScriptDelegation {
  constructor(
    private readonly pool: pg.Pool,
    readonly policy: DelegationPolicy,
  ) {}

  async startModel(spec: VideoSpec): Promise<StartModel> {
    return chooseStart(await readPattern(this.pool, patternOf(spec)), this.policy);
  }

  record(spec: VideoSpec, report: WriteReport): Promise<void> {
    return recordWrite(this.pool, patternOf(spec), report);
  }
}
