/**
 * The runtime's configuration contract: every environment variable it reads, with its rule,
 * default and meaning. Pure (no side effects) so that the stacks and the README can import the
 * list of names; runtime/config/load.ts turns an environment into a validated Config.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import type { Static, TSchema } from 'typebox';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** The OTLP encodings the runtime's exporter speaks (both over HTTP). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
/** OTEL_TRACES_SAMPLER's values in the OpenTelemetry specification. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

const port = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description });
const positiveInt = (fallback: number, max: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: max, default: fallback, description });
const flag = (fallback: boolean, description: string) => Type.Boolean({ default: fallback, description });
const text = (description: string, options: { default?: string; pattern?: string } = {}) =>
  Type.String({ minLength: 1, ...options, description });
const secret = (description: string) => Type.String({ minLength: 1, description, 'x-secret': true });
const secretFile = (of: string) =>
  Type.String({
    minLength: 1,
    description: `Path of a file holding ${of} (as Vault Agent renders it); re-read when it changes.`,
  });

const URL_PG = '^postgres(ql)?://';
const URL_PG_LIST = '^postgres(ql)?://[^,\\s]+(,postgres(ql)?://[^,\\s]+)*$';
const URL_REDIS = '^rediss?://';
const URL_HTTP = '^https?://';
const HOST_PORT_LIST = '^[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*$';

/** Every variable is optional in the environment; the defaults suit a local machine. */
export const configSchema = Type.Object({
  PORT: Type.Optional(port(8080, 'API listen port (/v1, /health, /ready, /docs).')),
  HOST: Type.Optional(text('API listen address; containers set 0.0.0.0.', { default: '127.0.0.1' })),
  METRICS_PORT: Type.Optional(port(9464, "Worker's own /metrics and /health port.")),
  API_METRICS_PORT: Type.Optional(
    port(9465, "API's internal /metrics and /health port (on HOST, apart from the public listener)."),
  ),
  LOG_LEVEL: Type.Optional(
    Type.Enum([...LOG_LEVELS], { default: 'info', description: 'pino log level (JSON logs on stdout).' }),
  ),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: URL_PG,
      default: 'postgres://postgres@127.0.0.1:5432/archibald',
      description: 'Primary Postgres (writes, and reads when no replica is set).',
      'x-secret': true,
    }),
  ),
  DATABASE_READ_URL: Type.Optional(
    Type.String({
      pattern: URL_PG_LIST,
      description:
        'Optional read replicas, comma-separated URLs; the GET routes spread their reads over them.',
      'x-secret': true,
    }),
  ),
  DATABASE_PASSWORD: Type.Optional(secret("Postgres password; replaces the URLs' password.")),
  DATABASE_PASSWORD_FILE: Type.Optional(secretFile('the Postgres password')),
  DATABASE_POOL_MAX: Type.Optional(positiveInt(10, 1000, 'Connections per pool (primary and replica).')),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: URL_REDIS,
      default: 'redis://127.0.0.1:6379',
      description: 'Redis for the queue and the rate limit (single node).',
      'x-secret': true,
    }),
  ),
  REDIS_CLUSTER_NODES: Type.Optional(
    text('Redis Cluster seed nodes "host:port,host:port"; when set, cluster mode (REDIS_URL ignored).', {
      pattern: HOST_PORT_LIST,
    }),
  ),
  REDIS_PASSWORD: Type.Optional(secret('Redis password (AUTH).')),
  REDIS_PASSWORD_FILE: Type.Optional(secretFile('the Redis password')),
  REDIS_TLS: Type.Optional(flag(false, 'Connect to Redis over TLS.')),
  QUEUE_PREFIX: Type.Optional(
    text('BullMQ key prefix; the braces are the Redis Cluster hash tag that keeps a queue in one slot.', {
      default: '{archibald}',
      pattern: '^\\{[^{}]+\\}$',
    }),
  ),
  WORKER_CONCURRENCY: Type.Optional(positiveInt(2, 64, 'Jobs one worker process runs at once.')),
  WORKER_SHUTDOWN_GRACE_SECONDS: Type.Optional(
    positiveInt(30, 3600, 'On SIGTERM, how long running jobs may finish before they are released.'),
  ),
  WORKER_LOCK_SECONDS: Type.Optional(
    positiveInt(30, 600, "A job's lock lifetime; a crashed worker's job is recovered after about this long."),
  ),
  RECONCILE_INTERVAL_SECONDS: Type.Optional(
    positiveInt(
      30,
      3600,
      'How often a worker looks for videos Postgres calls queued or running that the queue lost, and requeues them; a row must be this old too.',
    ),
  ),
  JOB_ATTEMPTS: Type.Optional(positiveInt(3, 20, 'Attempts per job (retries use exponential backoff).')),
  JOB_TIMEOUT_SECONDS: Type.Optional(positiveInt(900, 86400, 'A job running longer than this is aborted.')),
  WORK_DIR: Type.Optional(
    text('Scratch space for running jobs (one directory per video, one per attempt inside it).', {
      default: join(tmpdir(), 'archibald', 'work'),
    }),
  ),
  ASSET_CACHE_DIR: Type.Optional(
    text('Cache of generated assets (background loops, ambient beds, narration lines).', {
      default: './var/cache',
    }),
  ),
  ASSET_CACHE_MAX_BYTES: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 1_073_741_824,
      description:
        'Size cap of ASSET_CACHE_DIR in bytes; least-recently-used assets are evicted above it, never one a running job uses. Leave room for renders in progress below the volume.',
    }),
  ),
  STORAGE_DIR: Type.Optional(
    text('Local video storage (when S3_BUCKET is unset).', { default: './var/videos' }),
  ),
  PUBLIC_BASE_URL: Type.Optional(
    text('Base URL clients reach the API at; builds local file URLs.', {
      default: 'http://127.0.0.1:8080',
      pattern: URL_HTTP,
    }),
  ),
  S3_BUCKET: Type.Optional(text('Publish videos to this S3 bucket instead of STORAGE_DIR.')),
  S3_REGION: Type.Optional(text('Region of the S3 bucket.', { default: 'us-east-1' })),
  S3_ENDPOINT: Type.Optional(text('S3-compatible endpoint (MinIO, s3rver).', { pattern: URL_HTTP })),
  S3_FORCE_PATH_STYLE: Type.Optional(
    flag(false, 'Path-style S3 URLs (needed by most S3-compatible servers).'),
  ),
  CDN_BASE_URL: Type.Optional(
    text('Public base URL of the CDN in front of the bucket.', { pattern: URL_HTTP }),
  ),
  S3_PRESIGNED_URL_SECONDS: Type.Optional(
    positiveInt(
      300,
      604_800,
      'With S3 and no CDN_BASE_URL, the API redirects downloads to a presigned URL valid this long.',
    ),
  ),
  RATE_LIMIT_MAX: Type.Optional(positiveInt(100, 1_000_000, 'Requests per API key per window.')),
  RATE_LIMIT_WINDOW_SECONDS: Type.Optional(
    positiveInt(60, 86400, 'Length of the rate-limit window in seconds.'),
  ),
  RATE_LIMIT_AUTH_FAILURES_MAX: Type.Optional(
    positiveInt(
      20,
      1_000_000,
      'Requests without a valid API key per client address per window; counted in Redis before the key is looked up, so above it they never reach Postgres.',
    ),
  ),
  API_KEY_TTL_DAYS: Type.Optional(
    positiveInt(
      30,
      3650,
      'Lifetime of a new or rotated API key in days (archibald keys create/rotate --ttl-days overrides it); an expired key gets a 401.',
    ),
  ),
  API_KEY_CACHE_SECONDS: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 300,
      default: 5,
      description:
        'How long an API replica keeps a key it found valid before looking it up in Postgres again; archibald keys revoke/rotate invalidate it at once on every replica (through Redis). 0 looks every request up.',
    }),
  ),
  API_KEY_ROTATION_OVERLAP_HOURS: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 8760,
      default: 24,
      description:
        'After archibald keys rotate, how many hours the old key keeps working beside its successor (--overlap-hours overrides it).',
    }),
  ),
  EVENT_STREAMS_PER_KEY_MAX: Type.Optional(
    positiveInt(
      20,
      100_000,
      'Event streams (GET /v1/videos/:id/events) one API key may hold open at once on one API process; past it a new stream gets a 429.',
    ),
  ),
  TRUST_PROXY: Type.Optional(
    Type.String({
      default: '',
      description:
        'Comma-separated addresses/CIDRs of the proxies in front of the API (the load balancer); the client address is then read from X-Forwarded-For through them only. Empty: trust none, the peer is the client.',
    }),
  ),
  BODY_LIMIT_BYTES: Type.Optional(
    positiveInt(65536, 10_485_760, 'Largest accepted request body (413 above).'),
  ),
  CORS_ORIGINS: Type.Optional(
    Type.String({ default: '', description: 'Comma-separated allowed origins; empty means CORS off.' }),
  ),
  ANTHROPIC_API_KEY: Type.Optional(
    secret('Anthropic API key: when set, Claude writes the scripts (offline writer as fallback).'),
  ),
  ANTHROPIC_API_KEY_FILE: Type.Optional(secretFile('the Anthropic key')),
  ANTHROPIC_BASE_URL: Type.Optional(
    text('Base URL of the Anthropic Messages API (a proxy or a test fake).', { pattern: URL_HTTP }),
  ),
  SCRIPT_MODEL_CHEAP: Type.Optional(
    text('The model asked first for a script.', { default: 'claude-haiku-5-5' }),
  ),
  SCRIPT_MODEL_PREMIUM: Type.Optional(
    text('The model asked when the cheap one fails or answers an unusable script.', {
      default: 'claude-sonnet-5-5',
    }),
  ),
  VIDEO_BUDGET_USD: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 100,
      default: 0.1,
      description:
        "What one video's paid provider calls (script, voice, images) may spend in US dollars; a call whose worst case would cross it is not made (offline fallback).",
    }),
  ),
  SCRIPT_CACHE_TTL_SECONDS: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 31_536_000,
      default: 604_800,
      description:
        'How long a model-written script is reused for an identical request (topic, style, duration, voice, seed) from the Redis response cache; 0 turns the cache off.',
    }),
  ),
  PATTERN_RETENTION_HOURS: Type.Optional(
    positiveInt(24, 8760, 'Pattern memory forgets a request pattern unused for this long.'),
  ),
  PATTERN_MIN_ATTEMPTS: Type.Optional(
    positiveInt(
      5,
      1000,
      'Cheap-model answers a pattern needs before its success rate can start it at the premium model.',
    ),
  ),
  PATTERN_MIN_CHEAP_SUCCESS_RATE: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description:
        'A pattern whose cheap-model success rate (0 to 1) is below this starts at the premium model.',
    }),
  ),
  PROVIDER_CALL_RETENTION_HOURS: Type.Optional(
    positiveInt(48, 8760, 'How long the record of each provider call (for /delegation/stats) is kept.'),
  ),
  MODEL_PRICES_FILE: Type.Optional(
    text('JSON file of model prices (USD per million tokens) over the built-in table.'),
  ),
  ELEVENLABS_API_KEY: Type.Optional(
    secret('ElevenLabs API key: when set, ElevenLabs speaks the narration (flite as fallback).'),
  ),
  ELEVENLABS_API_KEY_FILE: Type.Optional(secretFile('the ElevenLabs key')),
  ELEVENLABS_BASE_URL: Type.Optional(
    text('Base URL of the ElevenLabs API (a proxy or a test fake).', {
      pattern: URL_HTTP,
      default: 'https://api.elevenlabs.io',
    }),
  ),
  ELEVENLABS_VOICE_ID: Type.Optional(
    text('ElevenLabs voice that speaks every narration.', { default: '21m00Tcm4TlvDq8ikWAM' }),
  ),
  ELEVENLABS_MODEL: Type.Optional(
    text('ElevenLabs text-to-speech model (model_id).', { default: 'eleven_flash_v2_5' }),
  ),
  FAL_KEY: Type.Optional(
    secret('FAL API key: when set, FAL makes still images for the background (gradients as fallback).'),
  ),
  FAL_KEY_FILE: Type.Optional(secretFile('the FAL key')),
  FAL_BASE_URL: Type.Optional(
    text("Base URL of FAL's synchronous model API (a proxy or a test fake).", {
      pattern: URL_HTTP,
      default: 'https://fal.run',
    }),
  ),
  FAL_MODEL: Type.Optional(text('FAL image model endpoint.', { default: 'fal-ai/flux/schnell' })),
  MEDIA_PRICES_FILE: Type.Optional(
    text(
      'JSON file of ElevenLabs and FAL prices (per character, image or megapixel) over the built-in table.',
    ),
  ),
  MIGRATE_ON_START: Type.Optional(flag(true, 'Apply pending migrations when the API starts (lock-guarded).')),
  API_URL: Type.Optional(
    text(
      'API base URL `archibald render` submits to (with ARCHIBALD_API_KEY); unset, it renders in its own process.',
      { pattern: URL_HTTP },
    ),
  ),
  ARCHIBALD_API_KEY: Type.Optional(secret('API key `archibald render` sends to API_URL.')),
  ARCHIBALD_API_KEY_FILE: Type.Optional(secretFile('the API key `archibald render` sends')),
  // OpenTelemetry's own variables, read by its SDK too (runtime/telemetry): here so they are
  // validated at start and documented with the rest.
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    text(
      'OTLP/HTTP collector base URL (the SDK posts to <url>/v1/traces); `serve` and `worker` trace when it is set. Unset: no tracing, and the SDK is not even loaded.',
      { pattern: URL_HTTP },
    ),
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Optional(
    Type.Enum([...OTLP_PROTOCOLS], { default: 'http/protobuf', description: 'OTLP encoding of the spans.' }),
  ),
  OTEL_SERVICE_NAME: Type.Optional(
    text('Service name on the spans; unset, archibald-api (`serve`) or archibald-worker (`worker`).'),
  ),
  OTEL_TRACES_SAMPLER: Type.Optional(
    Type.Enum([...TRACE_SAMPLERS], {
      default: 'parentbased_always_on',
      description:
        "Which traces are kept; the parentbased_ samplers follow the caller's decision, so a video's worker spans follow its POST.",
    }),
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'The ratio the traceidratio samplers keep (0..1; the SDK default is 1).',
    }),
  ),
  OTEL_RESOURCE_ATTRIBUTES: Type.Optional(
    text(
      'Extra resource attributes on every span, "key=value,key=value" (e.g. deployment.environment.name=prod).',
      {
        pattern: '^[^=,\\s]+=[^,]*(,[^=,\\s]+=[^,]*)*$',
      },
    ),
  ),
});

export type ConfigEnv = Static<typeof configSchema>;
export type ConfigVariableName = keyof ConfigEnv & string;

export interface ConfigVariable {
  readonly name: ConfigVariableName;
  readonly description: string;
  readonly default?: string | number | boolean;
  /** Its value is never logged or shown in an error. */
  readonly secret: boolean;
}

function describe(name: string, schema: TSchema): ConfigVariable {
  const s = schema as unknown as Record<string, unknown>;
  return {
    name: name as ConfigVariableName,
    description: String(s.description ?? ''),
    ...(s.default !== undefined ? { default: s.default as string | number | boolean } : {}),
    secret: s['x-secret'] === true || name.endsWith('_PASSWORD') || name.endsWith('_API_KEY'),
  };
}

/** Every variable, in documentation order. */
export const configVariables: readonly ConfigVariable[] = Object.entries(configSchema.properties).map(
  ([name, schema]) => describe(name, schema as TSchema),
);

export const configVariableNames: readonly ConfigVariableName[] = configVariables.map((v) => v.name);
