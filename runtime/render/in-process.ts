/**
 * Renders one video in this process, without queue or database: the pipeline's stages up to
 * assembly, then the MP4 and its WebVTT captions are moved to the requested path.
 */
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { StageContext, StageName, VideoSpec } from '../pipeline/stage.js';
import { createStages, type RenderOptions } from '../pipeline/stages.js';
import type { AssembleOutput } from '../stages/assemble.js';
import type { CaptionsOutput } from '../stages/captions.js';
import { overallPercent } from './stage-weights.js';

export interface InProcessRender {
  spec: VideoSpec;
  options: RenderOptions;
  /** Where the scratch directory is made (and removed). */
  workRoot: string;
  out: string;
  signal: AbortSignal;
  log: Logger;
  onProgress(stage: StageName, percent: number): void;
}

export async function renderInProcess(request: InProcessRender): Promise<{ file: string; captions: string }> {
  const stages = createStages(request.options).filter((s) => s.name !== 'publish');
  const names = stages.map((s) => s.name);
  await mkdir(request.workRoot, { recursive: true });
  const workDir = await mkdtemp(join(request.workRoot, 'render-'));
  const outputs: Partial<Record<StageName, unknown>> = {};
  const videoId = randomUUID();
  try {
    for (const stage of stages) {
      request.onProgress(stage.name, overallPercent(names, stage.name, 0));
      const ctx: StageContext = {
        videoId,
        spec: request.spec,
        workDir,
        signal: request.signal,
        outputs,
        progress: (f) => request.onProgress(stage.name, overallPercent(names, stage.name, f)),
        addCost: () => {},
        log: request.log.child({ stage: stage.name }),
      };
      outputs[stage.name] = await stage.run(ctx);
    }
    const video = outputs.assemble as AssembleOutput;
    const captions = outputs.captions as CaptionsOutput;
    const captionsOut = request.out.replace(/\.mp4$/i, '') + '.vtt';
    await mkdir(dirname(request.out), { recursive: true });
    await moveFile(join(workDir, video.file), request.out);
    await moveFile(join(workDir, captions.vttFile), captionsOut);
    return { file: request.out, captions: captionsOut };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** rename, or copy when the target is on another file system. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
  }
}
