/**
 * A render request from the command line, checked the way the API checks it, with an error
 * that names the flag and the rule.
 */
import { ASPECTS, DURATION_LIMITS, RESOLUTIONS, STYLES, VOICES } from '../pipeline/stage.js';
import type { Aspect, Resolution, Style, VideoSpec, Voice } from '../pipeline/stage.js';

/** The standard video: what the demo renders and what the render benchmark and tests measure. */
export const STANDARD_VIDEO = {
  topic: 'morning calm',
  durationSeconds: 60,
  aspect: '16:9',
  resolution: '720p',
  voice: 'slt',
  style: 'calm',
  burnCaptions: true,
} as const satisfies Omit<VideoSpec, 'seed'>;

export class RenderRequestError extends Error {
  override readonly name = 'RenderRequestError';
}

export interface RenderFlags {
  duration?: string;
  aspect?: string;
  resolution?: string;
  voice?: string;
  style?: string;
  seed?: string;
  burnCaptions?: boolean;
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new RenderRequestError(
    `--${flag} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
  );
}

export function renderSpec(topic: string, flags: RenderFlags): Omit<VideoSpec, 'seed'> & { seed?: string } {
  const trimmed = topic.trim();
  if (trimmed.length < 1 || trimmed.length > 200) {
    throw new RenderRequestError(`the topic must be 1 to 200 characters (got ${trimmed.length})`);
  }
  let durationSeconds: number = DURATION_LIMITS.default;
  if (flags.duration !== undefined) {
    durationSeconds = Number(flags.duration);
    if (
      !/^\d+$/.test(flags.duration) ||
      durationSeconds < DURATION_LIMITS.min ||
      durationSeconds > DURATION_LIMITS.max
    ) {
      throw new RenderRequestError(
        `--duration must be a whole number of seconds from ${DURATION_LIMITS.min} to ${DURATION_LIMITS.max} (got ${JSON.stringify(flags.duration)})`,
      );
    }
  }
  if (flags.seed !== undefined && (flags.seed.length < 1 || flags.seed.length > 100)) {
    throw new RenderRequestError('--seed must be 1 to 100 characters');
  }
  return {
    topic: trimmed,
    durationSeconds,
    aspect: oneOf<Aspect>('aspect', flags.aspect, ASPECTS, '16:9'),
    resolution: oneOf<Resolution>('resolution', flags.resolution, RESOLUTIONS, '720p'),
    voice: oneOf<Voice>('voice', flags.voice, VOICES, 'slt'),
    style: oneOf<Style>('style', flags.style, STYLES, 'calm'),
    burnCaptions: flags.burnCaptions ?? true,
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
  };
}

/** A file name from the topic: "Morning calm!" → "morning-calm.mp4". */
export function defaultOutputName(topic: string): string {
  const slug = topic
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `${slug || 'video'}.mp4`;
}
