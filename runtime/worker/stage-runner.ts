/**
 * Runs one attempt of a video's pipeline: the given stages in STAGE_ORDER, each recorded in
 * Postgres (start, end, duration, JSON output, cost, error). A stage whose output an earlier
 * attempt stored is skipped when that output is still reusable. Progress within a stage is mapped
 * onto the whole job's percentage and reported (throttled) to the caller.
 *
 * Every stage write carries the attempt's token and is refused once another attempt owns the
 * video; the runner then stops with AttemptSuperseded and records nothing more.
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import { STAGE_ORDER, StageError } from '../pipeline/stage.js';
import type { Stage, StageContext, StageName, VideoSpec } from '../pipeline/stage.js';
import { getStages, stageFinished, stageStarted } from '../db/videos.js';
import type { Metrics } from '../metrics/registry.js';

/** Relative weight of each stage in the overall progress (assembly dominates a render). */
const STAGE_WEIGHTS: Record<StageName, number> = {
  script: 5,
  narration: 20,
  visuals: 15,
  captions: 3,
  ambient: 5,
  assemble: 45,
  publish: 7,
};

const PROGRESS_INTERVAL_MS = 500;

/**
 * Another attempt owns the video now (this one lost its job lock): a stage write was refused.
 * Nothing more of this attempt may be recorded.
 */
export class AttemptSuperseded extends Error {
  constructor(
    readonly stage: StageName,
    options?: { cause?: unknown },
  ) {
    super(`another attempt owns the video now; ${stage} not recorded`, options);
    this.name = 'AttemptSuperseded';
  }
}

/** A stage failed (or was aborted); `stage` names it. */
export class StageRunError extends Error {
  constructor(
    readonly stage: StageName,
    message: string,
    readonly aborted: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StageRunError';
  }
}

export interface PipelineResult {
  outputs: Partial<Record<StageName, unknown>>;
  costUsd: number;
  /** Stages that ran in this attempt (the others were reused from an earlier attempt). */
  ran: StageName[];
}

export interface PipelineInput {
  pool: pg.Pool;
  videoId: string;
  spec: VideoSpec;
  attempt: number;
  /** The attempt's job token: every stage write is conditional on it (see db/videos.ts). */
  token: string;
  workDir: string;
  signal: AbortSignal;
  log: Logger;
  metrics?: Metrics;
  /** Overall progress 0..100 and the current stage, throttled. */
  onProgress(progress: number, stage: StageName, costUsd: number): Promise<void> | void;
}

/** Orders stages by STAGE_ORDER and refuses duplicates. */
export function orderStages(stages: readonly Stage[]): Stage[] {
  const seen = new Set<StageName>();
  for (const stage of stages) {
    if (!STAGE_ORDER.includes(stage.name)) throw new Error(`unknown stage "${String(stage.name)}"`);
    if (seen.has(stage.name)) throw new Error(`stage "${stage.name}" given twice`);
    seen.add(stage.name);
  }
  return [...stages].sort((a, b) => STAGE_ORDER.indexOf(a.name) - STAGE_ORDER.indexOf(b.name));
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

export async function runPipeline(stages: readonly Stage[], input: PipelineInput): Promise<PipelineResult> {
  const ordered = orderStages(stages);
  const total = ordered.reduce((sum, s) => sum + STAGE_WEIGHTS[s.name], 0) || 1;
  const stored = new Map((await getStages(input.pool, input.videoId)).map((r) => [r.stage, r]));
  const outputs: Partial<Record<StageName, unknown>> = {};
  const ran: StageName[] = [];
  let costUsd = 0;
  let done = 0;
  let lastReport = 0;

  const report = async (stage: StageName, fraction: number, force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    const percent = ((done + STAGE_WEIGHTS[stage] * Math.max(0, Math.min(1, fraction))) / total) * 100;
    try {
      await input.onProgress(percent, stage, costUsd);
    } catch (error) {
      input.log.warn({ err: error }, 'progress report failed');
    }
  };

  for (const stage of ordered) {
    if (input.signal.aborted) throw new StageRunError(stage.name, abortMessage(input.signal), true);
    let stageCost = 0;
    const ctx: StageContext = {
      videoId: input.videoId,
      spec: input.spec,
      workDir: input.workDir,
      signal: input.signal,
      outputs,
      progress: (fraction) => void report(stage.name, fraction, false),
      addCost: (provider, usd) => {
        if (!Number.isFinite(usd) || usd < 0) return;
        stageCost += usd;
        costUsd += usd;
        input.metrics?.providerCost.inc({ provider }, usd);
      },
      log: input.log.child({ stage: stage.name }),
    };

    const previous = stored.get(stage.name);
    if (previous?.status === 'completed') {
      const reusable = stage.isReusable
        ? await stage.isReusable(previous.output, ctx).catch(() => false)
        : true;
      if (reusable) {
        outputs[stage.name] = previous.output;
        costUsd += previous.costUsd;
        done += STAGE_WEIGHTS[stage.name];
        input.log.info({ stage: stage.name }, 'stage reused from an earlier attempt');
        continue;
      }
    }

    if (
      !(await stageStarted(input.pool, input.videoId, stage.name, {
        number: input.attempt,
        token: input.token,
      }))
    )
      throw new AttemptSuperseded(stage.name);
    await report(stage.name, 0, true);
    const started = performance.now();
    try {
      const output = await stage.run(ctx);
      if (input.signal.aborted) throw input.signal.reason ?? new Error('aborted');
      const durationMs = performance.now() - started;
      const recorded = await stageFinished(input.pool, input.videoId, stage.name, input.token, {
        status: 'completed',
        output,
        costUsd: stageCost,
        durationMs,
      });
      if (!recorded) throw new AttemptSuperseded(stage.name);
      input.metrics?.stageDuration.observe({ stage: stage.name, outcome: 'ok' }, durationMs / 1000);
      outputs[stage.name] = output;
      ran.push(stage.name);
      // Reported as this stage at 100 % before it counts as done: reported after, the stage's
      // weight was counted twice (a percentage above the next stage's, even above 100).
      await report(stage.name, 1, true);
      done += STAGE_WEIGHTS[stage.name];
    } catch (error) {
      if (error instanceof AttemptSuperseded) throw error;
      const durationMs = performance.now() - started;
      const aborted = input.signal.aborted;
      const message = aborted
        ? abortMessage(input.signal)
        : error instanceof StageError
          ? error.message
          : `${stage.name} failed: ${messageOf(error)}`;
      // Refused (nothing written) when another attempt owns the video by now.
      const recorded = await stageFinished(input.pool, input.videoId, stage.name, input.token, {
        status: aborted ? 'cancelled' : 'failed',
        errorMessage: message,
        costUsd: stageCost,
        durationMs,
      }).catch((e: unknown) => {
        input.log.warn({ err: e }, 'could not record the stage failure');
        return true; // not refused: this attempt's failure handling goes on as usual
      });
      input.metrics?.stageDuration.observe(
        { stage: stage.name, outcome: aborted ? 'cancelled' : 'error' },
        durationMs / 1000,
      );
      if (!aborted) input.metrics?.stageFailures.inc({ stage: stage.name });
      if (!recorded) throw new AttemptSuperseded(stage.name, { cause: error });
      throw new StageRunError(stage.name, message, aborted, { cause: error });
    }
  }
  return { outputs, costUsd, ran };
}

/** The reason the job's signal fired, as the message recorded on the stage. */
export function abortMessage(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'aborted';
}
