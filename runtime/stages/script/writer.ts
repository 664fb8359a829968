import type { Logger } from 'pino';
import type { VideoSpec } from '../../pipeline/stage.js';
import type { ScriptDocument } from './document.js';

/** What a writer may do besides writing: record its spend on the stage, and log. */
export interface WriteContext {
  /** Records provider spend for this video (the stage's ctx.addCost). */
  addCost(provider: string, usd: number): void;
  /** What the video has spent so far (all stages), which the video's budget caps. */
  spentUsd(): number;
  readonly log?: Logger;
}

/** Writes a meditation script for a spec: offline templates, or a model with offline fallback. */
export interface ScriptWriter {
  readonly name: string;
  write(spec: VideoSpec, signal: AbortSignal, context?: WriteContext): Promise<ScriptDocument>;
}
