/**
 * A render request from the command line: the flags become the body of POST /v1/videos, checked
 * by the very validator the API's route uses (so the CLI and the API accept the same requests and
 * fill in the same defaults), with an error that names the flag and the rule.
 */
import { CreateVideoBody } from '../api/schemas.js';
import { fieldErrors, validatorFor } from '../api/validation.js';
import { VIDEO_DEFAULTS } from '../pipeline/stage.js';
import type { VideoSpec } from '../pipeline/stage.js';

/**
 * The standard video: what the demo renders and what the render benchmark and tests measure — a
 * request for "morning calm" that leaves every other choice to the defaults.
 */
export const STANDARD_VIDEO = {
  topic: 'morning calm',
  ...VIDEO_DEFAULTS,
} as const satisfies Omit<VideoSpec, 'seed'>;

export class RenderRequestError extends Error {
  override readonly name = 'RenderRequestError';
}

/** The render command's flags as commander parses them (text, and the captions switch). */
export interface RenderFlags {
  duration?: string;
  aspect?: string;
  resolution?: string;
  voice?: string;
  style?: string;
  seed?: string;
  burnCaptions?: boolean;
}

/** A validated request: every field filled in, the seed only when one was given. */
export type RenderRequest = Omit<VideoSpec, 'seed'> & { seed?: string };

/** Each field of the request body, and the flag that sets it. */
const FLAGS = {
  durationSeconds: 'duration',
  aspect: 'aspect',
  resolution: 'resolution',
  voice: 'voice',
  style: 'style',
  burnCaptions: 'burnCaptions',
  seed: 'seed',
} as const satisfies Record<Exclude<keyof RenderRequest, 'topic'>, keyof RenderFlags>;

const validate = validatorFor(CreateVideoBody, 'body');

/** A flag's text as JSON would carry it: a number where it reads as one; the schema judges the rest. */
function asNumber(text: string): number | string {
  return /^[+-]?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

/** The body of POST /v1/videos for a topic and flags: only what was given, no defaults. */
export function requestBody(topic: string, flags: RenderFlags): Record<string, unknown> {
  const body: Record<string, unknown> = { topic };
  for (const [field, flag] of Object.entries(FLAGS)) {
    const given = flags[flag];
    if (given === undefined) continue;
    body[field] = field === 'durationSeconds' && typeof given === 'string' ? asNumber(given) : given;
  }
  return body;
}

function flagName(field: string): string {
  if (field === 'topic') return 'the topic';
  const flag = (FLAGS as Record<string, string>)[field] ?? field;
  return `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Validates the request the flags make with the API's compiled validator and returns it with the
 * defaults filled in; a RenderRequestError names each flag that broke a rule.
 */
export function renderRequest(topic: string, flags: RenderFlags): RenderRequest {
  const result = validate(requestBody(topic, flags));
  if (result.error === undefined) return result.value as RenderRequest;
  const problems = fieldErrors(result.error as never, 'body').map((error) => {
    const field = error.field.replace(/^body\.?/, '');
    const given =
      field === 'topic'
        ? topic
        : (flags as Record<string, unknown>)[(FLAGS as Record<string, string>)[field] ?? ''];
    return `${flagName(field)} ${error.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
  });
  throw new RenderRequestError(problems.join('; '));
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
