/**
 * The pipeline's stage loop (runtime/pipeline/run-stages.ts) as the tests and the render benchmark
 * drive it: a temporary work directory, removed afterwards whether the run succeeded, failed or was
 * cancelled; a silent log; every progress report kept; stored outputs handed in as an earlier
 * attempt's.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { runStages as runStageLoop, type StageRecorder } from '../../runtime/pipeline/run-stages.js';
import type { Stage, StageName, VideoSpec } from '../../runtime/pipeline/stage.js';
import { STANDARD_VIDEO } from '../../runtime/render/request.js';

export const standardSpec: VideoSpec = { ...STANDARD_VIDEO, seed: 'standard' };

export interface StageRun {
  videoId: string;
  workDir: string;
  outputs: Partial<Record<StageName, unknown>>;
  /** Each stage's progress as the loop reported it: 0 at its start, 1 at its end. */
  progress: Array<{ stage: StageName; fraction: number }>;
  /** What each provider was paid during the run (the stages' addCost). */
  providerCosts: Record<string, number>;
  /** What each stage that ran cost. */
  stageCosts: Partial<Record<StageName, number>>;
}

export interface RunOptions {
  signal?: AbortSignal;
  videoId?: string;
  /** Called after each stage that ran with the run so far, before the next stage starts. */
  afterStage?: (stage: StageName, run: StageRun) => Promise<void> | void;
  /** Keep the work directory (the caller removes it); by default it is removed at the end. */
  keepWorkDir?: boolean;
  workDir?: string;
  /**
   * Outputs from before: of the given stages, an earlier attempt's (reused when still reusable);
   * of the others, the inputs the given stages read.
   */
  outputs?: Partial<Record<StageName, unknown>>;
  onProgress?: (stage: StageName, fraction: number) => void;
}

export async function runStages(
  stages: Stage[],
  spec: VideoSpec,
  options: RunOptions = {},
): Promise<StageRun> {
  const videoId = options.videoId ?? randomUUID();
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'archibald-test-job-')));
  await mkdir(workDir, { recursive: true });
  const run: StageRun = { videoId, workDir, outputs: {}, progress: [], providerCosts: {}, stageCosts: {} };
  const given = new Set(stages.map((s) => s.name));
  const earlier = Object.entries(options.outputs ?? {}) as Array<[StageName, unknown]>;
  const recorder: StageRecorder = {
    completed: async () =>
      new Map(
        earlier.filter(([name]) => given.has(name)).map(([name, output]) => [name, { output, costUsd: 0 }]),
      ),
    started: async () => true,
    finished: async (stage, outcome) => {
      run.stageCosts[stage] = outcome.costUsd;
      return true;
    },
  };
  try {
    const result = await runStageLoop(stages, {
      videoId,
      spec,
      workDir,
      signal: options.signal ?? new AbortController().signal,
      log: pino({ level: 'silent' }),
      recorder,
      metrics: {
        providerCost: (provider, usd) => {
          run.providerCosts[provider] = (run.providerCosts[provider] ?? 0) + usd;
        },
        stageEnded: () => {},
      },
      inputs: Object.fromEntries(earlier.filter(([name]) => !given.has(name))),
      onProgress: ({ stage, fraction }) => {
        run.progress.push({ stage, fraction });
        options.onProgress?.(stage, fraction);
      },
      afterStage: async (stage, outputs) => {
        run.outputs = outputs;
        await options.afterStage?.(stage, run);
      },
    });
    run.outputs = result.outputs;
    return run;
  } finally {
    if (!options.keepWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}
