/**
 * The pipeline's contract: what a video request asks for, and the interface every stage
 * implements. The stage loop (run-stages.ts) runs stages in `STAGE_ORDER`; each stage reads the
 * outputs of the stages before it and returns its own, which the worker stores on the job so that a
 * retry skips the stages that already completed.
 */
import type { Logger } from 'pino';

export const ASPECTS = ['16:9', '9:16', '1:1'] as const;
export type Aspect = (typeof ASPECTS)[number];

export const RESOLUTIONS = ['720p', '1080p'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** ffmpeg's flite voices, the offline narrators. */
export const VOICES = ['slt', 'awb', 'kal', 'kal16', 'rms'] as const;
export type Voice = (typeof VOICES)[number];

export const STYLES = ['calm', 'sleep', 'focus', 'gratitude'] as const;
export type Style = (typeof STYLES)[number];

export const DURATION_LIMITS = { min: 15, max: 600 } as const;

/** A validated video request, as the worker receives it. */
export interface VideoSpec {
  topic: string;
  durationSeconds: number;
  aspect: Aspect;
  resolution: Resolution;
  voice: Voice;
  style: Style;
  /** Burn the captions into the picture (they are always written as WebVTT beside the video). */
  burnCaptions: boolean;
  /** Seed for every deterministic choice; the same spec and seed render the same video. */
  seed: string;
}

/**
 * What a request leaves out, in one place: the API's request schema carries these as its
 * `default`s, and the CLI validates with that schema, so both fill in the same values. The seed
 * has no default here: each path picks one (the API from the video id, the CLI from the topic).
 */
export const VIDEO_DEFAULTS = {
  durationSeconds: 60,
  aspect: '16:9',
  resolution: '720p',
  voice: 'slt',
  style: 'calm',
  burnCaptions: true,
} as const satisfies Omit<VideoSpec, 'topic' | 'seed'>;

/** A video's lifecycle: the API reports it, the database stores it, the worker moves it on. */
export const VIDEO_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];
export const FINAL_STATUSES: readonly VideoStatus[] = ['completed', 'failed', 'cancelled'];

export const STAGE_ORDER = [
  'script',
  'narration',
  'visuals',
  'captions',
  'ambient',
  'assemble',
  'publish',
] as const;
export type StageName = (typeof STAGE_ORDER)[number];

export interface StageContext {
  readonly videoId: string;
  readonly spec: VideoSpec;
  /** Scratch directory for this job; removed after success or final failure. */
  readonly workDir: string;
  /** Aborted when the job is cancelled, times out or the worker shuts down. */
  readonly signal: AbortSignal;
  /** Outputs of the stages that already ran for this job, by stage name. */
  readonly outputs: Readonly<Partial<Record<StageName, unknown>>>;
  /** Progress within this stage, 0..1; the stage loop maps it onto the run's overall progress. */
  progress(fraction: number): void;
  /** Records provider spend for this video (priced tokens, characters, images). */
  addCost(provider: string, usd: number): void;
  /** What this video has spent so far, over all stages and attempts: the budget paid providers share. */
  spentUsd(): number;
  readonly log: Logger;
}

export interface Stage<Output = unknown> {
  readonly name: StageName;
  /** Runs the stage; the output must be JSON-serialisable, it is stored on the job. */
  run(ctx: StageContext): Promise<Output>;
  /**
   * Whether a stored output from an earlier attempt can still be used (for example, its files are
   * still in the work directory). When false the stage runs again. Absent means always reusable.
   */
  isReusable?(output: Output, ctx: StageContext): Promise<boolean>;
}

/**
 * What the publish stage returns, and all the worker reads of a finished pipeline (the stored
 * video's URLs); the worker knows the stages only through this contract.
 */
export interface PublishOutput {
  videoUrl: string;
  captionsUrl: string;
  key: string;
  bytes: number;
  /** Hex SHA-256 of the published video: what a restore from the DR copy is checked against. */
  sha256: string;
  captionsKey: string;
  captionsBytes: number;
  captionsSha256: string;
  contentType: string;
  durationSeconds: number;
}

/** A stage failure with the detail an operator needs (for ffmpeg, its own error line). */
export class StageError extends Error {
  constructor(
    readonly stage: StageName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StageError';
  }
}
