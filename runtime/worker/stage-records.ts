/**
 * The worker's side of the stage loop (pipeline/run-stages.ts): each stage of an attempt is
 * recorded in Postgres (start, end, duration, JSON output, cost, error), and the stage metrics go
 * to the worker's registry.
 *
 * Every stage write carries the attempt's token and is refused once another attempt owns the
 * video (db/videos.ts); the loop then stops with AttemptSuperseded and records nothing more.
 */
import type pg from 'pg';
import { getStages, stageFinished, stageStarted } from '../db/videos.js';
import type { Metrics } from '../metrics/registry.js';
import type { StageMetrics, StageRecorder } from '../pipeline/run-stages.js';

/** Records one attempt's stages; each write is conditional on `attempt.token`. */
export function postgresRecorder(
  pool: pg.Pool,
  videoId: string,
  attempt: { number: number; token: string },
): StageRecorder {
  return {
    completed: async () =>
      new Map(
        (await getStages(pool, videoId))
          .filter((r) => r.status === 'completed')
          .map((r) => [r.stage, { output: r.output, costUsd: r.costUsd }]),
      ),
    started: (stage) => stageStarted(pool, videoId, stage, attempt),
    finished: (stage, outcome) => stageFinished(pool, videoId, stage, attempt.token, outcome),
  };
}

/** The loop's measurements as the catalog's stage duration, failure and provider cost metrics. */
export function stageMetrics(metrics: Metrics): StageMetrics {
  return {
    providerCost: (provider, usd) => metrics.providerCost.inc({ provider }, usd),
    stageEnded: (stage, outcome, seconds) => {
      metrics.stageDuration.observe({ stage, outcome }, seconds);
      if (outcome === 'error') metrics.stageFailures.inc({ stage });
    },
  };
}
