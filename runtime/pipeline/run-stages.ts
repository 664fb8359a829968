/**
 * The one loop that runs pipeline stages: the worker's jobs, `archibald render` in this process,
 * and the tests and the render benchmark all go through it, so that failure, cancellation, reuse,
 * cost and progress behave the same everywhere and what a test proves of the loop holds in the
 * worker.
 *
 * Stages run in STAGE_ORDER with a real StageContext. A stage whose output an earlier attempt
 * stored (the recorder's) is skipped when that output is still reusable. Progress within a stage is
 * mapped onto one overall percentage (progress.ts). The recorder is where the worker keeps stage
 * records (Postgres, fenced by the attempt's token): when it refuses a stage's start or end, another
 * attempt owns the video, and the loop stops with AttemptSuperseded and records nothing more.
 * Without a recorder (the offline render, the tests) nothing is recorded and nothing is refused.
 */
import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { failSpan, inSpan } from '../telemetry/spans.js';
import { overallPercent } from './progress.js';
import { STAGE_ORDER, StageError } from './stage.js';
import type { Stage, StageContext, StageName, VideoSpec } from './stage.js';

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

/**
 * A stage failed (or was aborted), with the message recorded for it. A StageError, so that callers
 * that report a stage's failure (the render command) need not know about the loop.
 */
export class StageRunError extends StageError {
  constructor(
    stage: StageName,
    message: string,
    readonly aborted: boolean,
    options?: { cause?: unknown },
  ) {
    super(stage, message, options);
    this.name = 'StageRunError';
  }
}

/** A stage's output as an earlier attempt stored it, with what that stage cost. */
export interface StoredStage {
  output: unknown;
  costUsd: number;
}

export type StageOutcome =
  | { status: 'completed'; output: unknown; costUsd: number; durationMs: number }
  | { status: 'failed' | 'cancelled'; errorMessage: string; costUsd: number; durationMs: number };

/** Where an attempt's stages are recorded; false from a write means it was refused. */
export interface StageRecorder {
  /** Stages an earlier attempt completed, read once before the first stage. */
  completed(): Promise<ReadonlyMap<StageName, StoredStage>>;
  started(stage: StageName): Promise<boolean>;
  finished(stage: StageName, outcome: StageOutcome): Promise<boolean>;
}

/** What the loop measures, for a process's metrics. */
export interface StageMetrics {
  providerCost(provider: string, usd: number): void;
  stageEnded(stage: StageName, outcome: 'ok' | 'error' | 'cancelled', seconds: number): void;
}

export interface StageProgress {
  stage: StageName;
  /** Within the stage, 0..1. */
  fraction: number;
  /** Of the whole run, 0..100. */
  percent: number;
  /** Spent so far in this run, reused stages' cost included. */
  costUsd: number;
}

export interface RunStagesInput {
  videoId: string;
  spec: VideoSpec;
  workDir: string;
  signal: AbortSignal;
  log: Logger;
  recorder?: StageRecorder;
  /** Outputs of stages that ran before this run and are not among its stages, for its stages to read. */
  inputs?: Partial<Record<StageName, unknown>>;
  metrics?: StageMetrics;
  /** Each stage's start and end, and its progress in between; a failing callback is only logged. */
  onProgress?(progress: StageProgress): Promise<void> | void;
  /** At most one report within a stage per this many ms (default: every report). */
  progressIntervalMs?: number;
  /** Called after each stage that ran (was not reused), once recorded, before the next starts. */
  afterStage?(stage: StageName, outputs: Partial<Record<StageName, unknown>>): Promise<void> | void;
}

export interface StagesResult {
  outputs: Partial<Record<StageName, unknown>>;
  costUsd: number;
  /** Stages that ran in this attempt (the others were reused from an earlier attempt). */
  ran: StageName[];
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

export async function runStages(stages: readonly Stage[], input: RunStagesInput): Promise<StagesResult> {
  const ordered = orderStages(stages);
  const names = ordered.map((s) => s.name);
  const stored = (await input.recorder?.completed()) ?? new Map<StageName, StoredStage>();
  const outputs: Partial<Record<StageName, unknown>> = { ...input.inputs };
  const ran: StageName[] = [];
  let costUsd = 0;
  let lastReport = 0;

  const report = async (stage: StageName, fraction: number, force: boolean) => {
    const now = Date.now();
    if (!force && now - lastReport < (input.progressIntervalMs ?? 0)) return;
    lastReport = now;
    const clamped = Math.max(0, Math.min(1, fraction));
    try {
      await input.onProgress?.({
        stage,
        fraction: clamped,
        percent: overallPercent(names, stage, clamped),
        costUsd,
      });
    } catch (error) {
      input.log.warn({ err: error }, 'progress report failed');
    }
  };

  for (const stage of ordered) {
    if (input.signal.aborted) throw new StageRunError(stage.name, abortMessage(input.signal), true);
    let stageCost = 0;
    // A stage's progress reported after it ended would move the overall percentage backwards.
    let ended = false;
    const ctx: StageContext = {
      videoId: input.videoId,
      spec: input.spec,
      workDir: input.workDir,
      signal: input.signal,
      outputs,
      progress: (fraction) => {
        if (!ended) void report(stage.name, fraction, false);
      },
      addCost: (provider, usd) => {
        if (!Number.isFinite(usd) || usd < 0) return;
        stageCost += usd;
        costUsd += usd;
        input.metrics?.providerCost(provider, usd);
      },
      spentUsd: () => costUsd,
      log: input.log.child({ stage: stage.name }),
    };

    const previous = stored.get(stage.name);
    if (previous) {
      const reusable = stage.isReusable
        ? await stage.isReusable(previous.output, ctx).catch(() => false)
        : true;
      if (reusable) {
        outputs[stage.name] = previous.output;
        costUsd += previous.costUsd;
        input.log.info({ stage: stage.name }, 'stage reused from an earlier attempt');
        trace.getActiveSpan()?.addEvent('stage.reused', { 'archibald.stage': stage.name });
        continue;
      }
    }

    // One span per stage that runs (a reused one is an event on the attempt's span); the stage's
    // ffmpeg runs and provider calls are its children.
    await inSpan(
      `stage ${stage.name}`,
      { attributes: { 'archibald.stage': stage.name }, statusByCaller: true },
      async (span) => {
        if (input.recorder && !(await input.recorder.started(stage.name)))
          throw new AttemptSuperseded(stage.name);
        await report(stage.name, 0, true);
        const started = performance.now();
        try {
          const output = await stage.run(ctx);
          ended = true;
          if (input.signal.aborted) throw input.signal.reason ?? new Error('aborted');
          const durationMs = performance.now() - started;
          const recorded =
            !input.recorder ||
            (await input.recorder.finished(stage.name, {
              status: 'completed',
              output,
              costUsd: stageCost,
              durationMs,
            }));
          if (!recorded) throw new AttemptSuperseded(stage.name);
          input.metrics?.stageEnded(stage.name, 'ok', durationMs / 1000);
          span.setAttribute('archibald.cost_usd', stageCost);
          outputs[stage.name] = output;
          ran.push(stage.name);
          // Reported as this stage at 100 % before the next stage starts: the next stage's 0 % then
          // follows it, and the overall percentage never goes backwards.
          await report(stage.name, 1, true);
        } catch (error) {
          ended = true;
          if (error instanceof AttemptSuperseded) throw error;
          const durationMs = performance.now() - started;
          const aborted = input.signal.aborted;
          const message = aborted
            ? abortMessage(input.signal)
            : error instanceof StageError
              ? error.message
              : `${stage.name} failed: ${messageOf(error)}`;
          // Refused (nothing written) when another attempt owns the video by now.
          const recorded =
            !input.recorder ||
            (await input.recorder
              .finished(stage.name, {
                status: aborted ? 'cancelled' : 'failed',
                errorMessage: message,
                costUsd: stageCost,
                durationMs,
              })
              .catch((e: unknown) => {
                input.log.warn({ err: e }, 'could not record the stage failure');
                return true; // not refused: this attempt's failure handling goes on as usual
              }));
          input.metrics?.stageEnded(stage.name, aborted ? 'cancelled' : 'error', durationMs / 1000);
          span.setAttribute('archibald.cost_usd', stageCost);
          // A cancel, timeout or shutdown is not the stage failing: an event, not an error status.
          if (aborted) span.addEvent('stage.aborted', { 'archibald.reason': message });
          else failSpan(span, error, message);
          if (!recorded) throw new AttemptSuperseded(stage.name, { cause: error });
          throw new StageRunError(stage.name, message, aborted, { cause: error });
        }
      },
    );
    await input.afterStage?.(stage.name, outputs);
  }
  return { outputs, costUsd, ran };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** The reason the run's signal fired, as the message recorded on the stage. */
function abortMessage(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'aborted';
}
