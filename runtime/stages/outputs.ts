import type { StageContext, StageName } from '../pipeline/stage.js';
import { StageError } from '../pipeline/stage.js';
import { FfmpegError } from '../media/ffmpeg.js';

/** An earlier stage's output, which this stage cannot run without. */
export function earlierOutput<T>(ctx: StageContext, from: StageName, needer: StageName): T {
  const output = ctx.outputs[from];
  if (output === undefined || output === null) {
    throw new StageError(needer, `the ${needer} stage needs the ${from} stage's output, which is missing`);
  }
  return output as T;
}

/** Any failure inside a stage as a StageError naming the stage, keeping ffmpeg's own message. */
export function asStageError(stage: StageName, error: unknown): StageError {
  if (error instanceof StageError) return error;
  if (error instanceof FfmpegError)
    return new StageError(stage, `ffmpeg: ${error.message}`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new StageError(stage, message, { cause: error });
}
