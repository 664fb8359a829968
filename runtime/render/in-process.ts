/**
 * Renders one video in this process, without queue or database: the pipeline's stages up to
 * assembly through the same stage loop as the worker (nothing recorded, nothing reused), then the
 * MP4 and its WebVTT captions are moved to the requested path.
 */
import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { runStages } from '../pipeline/run-stages.js';
import type { StageName, VideoSpec } from '../pipeline/stage.js';
import { createStages, type RenderOptions } from '../pipeline/stages.js';
import type { AssembleOutput } from '../stages/assemble.js';
import type { CaptionsOutput } from '../stages/captions.js';

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
  await mkdir(request.workRoot, { recursive: true });
  const workDir = await mkdtemp(join(request.workRoot, 'render-'));
  try {
    const { outputs } = await runStages(stages, {
      videoId: randomUUID(),
      spec: request.spec,
      workDir,
      signal: request.signal,
      log: request.log,
      onProgress: ({ stage, percent }) => request.onProgress(stage, percent),
    });
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
