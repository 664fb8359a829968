/**
 * Runs pipeline stages in order with a real StageContext, the way the worker does, for the tests
 * and the benchmark that drive stages directly. The work directory is removed afterwards, whether
 * the run succeeded, failed or was cancelled.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { Stage, StageContext, StageName, VideoSpec } from '../../runtime/pipeline/stage.js';
import { STANDARD_VIDEO } from '../../runtime/render/request.js';

export const standardSpec: VideoSpec = { ...STANDARD_VIDEO, seed: 'standard' };

export interface StageRun {
  videoId: string;
  workDir: string;
  outputs: Partial<Record<StageName, unknown>>;
  progress: Array<{ stage: StageName; fraction: number }>;
}

export interface RunOptions {
  signal?: AbortSignal;
  videoId?: string;
  /** Called after each stage with the run so far, before the next stage starts. */
  afterStage?: (stage: StageName, run: StageRun) => Promise<void> | void;
  /** Keep the work directory (the caller removes it); by default it is removed at the end. */
  keepWorkDir?: boolean;
  workDir?: string;
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
  const run: StageRun = { videoId, workDir, outputs: { ...(options.outputs ?? {}) }, progress: [] };
  const signal = options.signal ?? new AbortController().signal;
  const log = pino({ level: 'silent' });
  try {
    for (const stage of stages) {
      const ctx: StageContext = {
        videoId,
        spec,
        workDir,
        signal,
        outputs: run.outputs,
        progress: (fraction) => {
          run.progress.push({ stage: stage.name, fraction });
          options.onProgress?.(stage.name, fraction);
        },
        addCost: () => {},
        log,
      };
      const stored = run.outputs[stage.name];
      if (stored !== undefined && (!stage.isReusable || (await stage.isReusable(stored, ctx)))) continue;
      run.outputs[stage.name] = await stage.run(ctx);
      await options.afterStage?.(stage.name, run);
    }
    return run;
  } finally {
    if (!options.keepWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}
