/**
 * Request and response schemas (TypeBox): fastify validates with them and the OpenAPI document at
 * /docs is generated from them, so the two cannot disagree.
 */
import Type from 'typebox';
import type { Static } from 'typebox';
import {
  ASPECTS,
  DURATION_LIMITS,
  RESOLUTIONS,
  STAGE_ORDER,
  STYLES,
  VIDEO_DEFAULTS,
  VIDEO_STATUSES,
  VOICES,
} from '../pipeline/stage.js';

/**
 * A video request. The API's route validates bodies with it and so does `archibald render`, with
 * the same compiled validator (validation.ts), so both accept the same requests and fill in the
 * same defaults (VIDEO_DEFAULTS).
 */
export const CreateVideoBody = Type.Object(
  {
    topic: Type.String({
      minLength: 1,
      maxLength: 200,
      // Some visible character, and no control characters (Postgres cannot store NUL).
      pattern: '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001f\\u007f]+$',
      description: 'What the meditation is about: visible text, no control characters.',
    }),
    durationSeconds: Type.Optional(
      Type.Integer({
        minimum: DURATION_LIMITS.min,
        maximum: DURATION_LIMITS.max,
        default: VIDEO_DEFAULTS.durationSeconds,
      }),
    ),
    aspect: Type.Optional(Type.Enum([...ASPECTS], { default: VIDEO_DEFAULTS.aspect })),
    resolution: Type.Optional(Type.Enum([...RESOLUTIONS], { default: VIDEO_DEFAULTS.resolution })),
    voice: Type.Optional(Type.Enum([...VOICES], { default: VIDEO_DEFAULTS.voice })),
    style: Type.Optional(Type.Enum([...STYLES], { default: VIDEO_DEFAULTS.style })),
    burnCaptions: Type.Optional(Type.Boolean({ default: VIDEO_DEFAULTS.burnCaptions })),
    seed: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' })),
    idempotencyKey: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[\\x21-\\x7e]+$',
        description: 'Retrying with the same key returns the same video instead of creating another.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateVideoBody = Static<typeof CreateVideoBody>;

export const VideoIdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'Video id.' }) });
export type VideoIdParams = Static<typeof VideoIdParams>;

export const ListVideosQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum([...VIDEO_STATUSES])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(
      Type.String({ format: 'uuid', description: 'The `nextCursor` of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);
export type ListVideosQuery = Static<typeof ListVideosQuery>;

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const StageView = Type.Object({
  name: Type.Enum([...STAGE_ORDER]),
  status: Type.Enum(['running', 'completed', 'failed', 'cancelled']),
  attempt: Type.Integer(),
  startedAt: Timestamp,
  finishedAt: Nullable(Timestamp),
  durationSeconds: Nullable(Type.Number()),
  costUsd: Type.Number(),
  error: Nullable(Type.String()),
});

export const VideoView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Enum([...VIDEO_STATUSES]),
  stage: Nullable(Type.Enum([...STAGE_ORDER])),
  progress: Type.Number({ minimum: 0, maximum: 100, description: 'Percent of the whole render.' }),
  request: Type.Object({
    topic: Type.String(),
    durationSeconds: Type.Integer(),
    aspect: Type.String(),
    resolution: Type.String(),
    voice: Type.String(),
    style: Type.String(),
    burnCaptions: Type.Boolean(),
    seed: Type.String(),
  }),
  idempotencyKey: Nullable(Type.String()),
  costUsd: Type.Number(),
  scriptWriter: Nullable(
    Type.String({
      description:
        'Who wrote the script: anthropic:<model> (also when reused from the response cache) or offline-template; null until the script stage completes.',
    }),
  ),
  outputUrl: Nullable(Type.String()),
  captionsUrl: Nullable(Type.String()),
  error: Nullable(Type.Object({ stage: Nullable(Type.String()), message: Type.String() })),
  attempts: Type.Integer(),
  createdAt: Timestamp,
  startedAt: Nullable(Timestamp),
  finishedAt: Nullable(Timestamp),
  stages: Type.Array(StageView),
  links: Type.Object({ self: Type.String(), events: Type.String(), file: Type.String() }),
});
export type VideoView = Static<typeof VideoView>;

export const VideoList = Type.Object({
  items: Type.Array(VideoView),
  nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last.' })),
});

export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  requestId: Type.String(),
  details: Type.Optional(
    Type.Array(Type.Object({ field: Type.String(), rule: Type.String(), message: Type.String() })),
  ),
});

export const HealthBody = Type.Object({ status: Type.String() });
export const ReadyBody = Type.Object({
  status: Type.Enum(['ready', 'not ready']),
  checks: Type.Record(
    Type.String(),
    Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }),
  ),
});
