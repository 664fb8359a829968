/**
 * Turns an environment into a validated Config, reporting every bad value at once.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import { configSchema, configVariables } from './schema.js';
import type { ConfigEnv, ConfigVariableName } from './schema.js';
import { FileSecret, envSecret } from './secret.js';
import type { Secret } from './secret.js';

export interface RedisNode {
  host: string;
  port: number;
}

export interface Config {
  version: string;
  port: number;
  host: string;
  metricsPort: number;
  apiMetricsPort: number;
  logLevel: NonNullable<ConfigEnv['LOG_LEVEL']>;
  database: {
    url: string;
    /** Read replicas' URLs; empty when reads go to the primary. */
    readUrls: string[];
    password?: Secret;
    poolMax: number;
  };
  redis: {
    url: string;
    clusterNodes?: RedisNode[];
    password?: Secret;
    tls: boolean;
  };
  queue: { prefix: string; attempts: number; timeoutSeconds: number };
  worker: {
    concurrency: number;
    shutdownGraceSeconds: number;
    lockSeconds: number;
    reconcileIntervalSeconds: number;
  };
  workDir: string;
  assetCacheDir: string;
  assetCacheMaxBytes: number;
  storageDir: string;
  publicBaseUrl: string;
  s3?: {
    bucket: string;
    region: string;
    endpoint?: string;
    forcePathStyle: boolean;
    cdnBaseUrl?: string;
    presignedUrlSeconds: number;
  };
  rateLimit: { max: number; windowSeconds: number; authFailuresMax: number };
  apiKeys: { ttlDays: number; rotationOverlapHours: number; cacheSeconds: number };
  /** Open event streams per API key per API process. */
  eventStreamsPerKeyMax: number;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For is believed; empty: none. */
  trustProxy: string[];
  bodyLimitBytes: number;
  corsOrigins: string[];
  anthropicApiKey?: Secret;
  /** The Claude script writer's settings (used when anthropicApiKey is set). */
  scriptModels: {
    cheap: string;
    premium: string;
    baseUrl?: string;
    videoBudgetUsd: number;
    pricesFile?: string;
    /** 0: no response cache. */
    cacheTtlSeconds: number;
  };
  /** Pattern memory and the provider call records (delegation.ts, db/pattern-memory.ts). */
  delegation: {
    patternRetentionHours: number;
    callRetentionHours: number;
    minAttempts: number;
    minCheapSuccessRate: number;
  };
  elevenLabsApiKey?: Secret;
  /** ElevenLabs narration's settings (used when elevenLabsApiKey is set). */
  elevenLabs: { baseUrl: string; voiceId: string; model: string };
  falKey?: Secret;
  /** FAL stills' settings (used when falKey is set). */
  fal: { baseUrl: string; model: string };
  /** ElevenLabs and FAL prices over the built-in table. */
  mediaPricesFile?: string;
  migrateOnStart: boolean;
  /** Where `archibald render` submits; absent: it renders in its own process. */
  apiUrl?: string;
  /** The key `archibald render` authenticates to apiUrl with. */
  apiKey?: Secret;
  /** Present when OTEL_EXPORTER_OTLP_ENDPOINT is set: `serve` and `worker` export traces. */
  tracing?: TracingConfig;
}

/**
 * The OTEL_* variables as validated here. The OpenTelemetry SDK reads them from the environment
 * itself (they are its standard ones); the runtime decides from this whether to start it at all.
 */
export interface TracingConfig {
  endpoint: string;
  protocol: NonNullable<ConfigEnv['OTEL_EXPORTER_OTLP_PROTOCOL']>;
  serviceName?: string;
  sampler: NonNullable<ConfigEnv['OTEL_TRACES_SAMPLER']>;
  samplerArg?: number;
  resourceAttributes?: string;
}

export interface ConfigIssue {
  variable: string;
  /** The offending value, or "[secret]" for secrets; absent when the variable is missing. */
  value?: string;
  rule: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `invalid configuration:\n${issues
        .map((i) => `  ${i.variable}${i.value === undefined ? '' : `=${JSON.stringify(i.value)}`}: ${i.rule}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

const checker = Compile(configSchema);
const secretNames = new Set(configVariables.filter((v) => v.secret).map((v) => v.name as string));
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Env strings to the schema's types; a value that does not convert is left as is and fails the check. */
function convert(name: string, raw: string): unknown {
  const schema = configSchema.properties[name as ConfigVariableName] as TSchema & { type?: string };
  if (schema.type === 'integer' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
  if (schema.type === 'number' && raw.trim() !== '' && Number.isFinite(Number(raw.trim())))
    return Number(raw.trim());
  if (schema.type === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
  }
  return raw;
}

function rule(error: { keyword: string; message: string; params: Record<string, unknown> }): string {
  switch (error.keyword) {
    case 'type':
      return `must be ${error.params.type === 'boolean' ? 'true or false' : `an ${String(error.params.type)}`}`;
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `must match ${String(error.params.pattern)}`;
    case 'minimum':
      return `must be >= ${String(error.params.limit)}`;
    case 'maximum':
      return `must be <= ${String(error.params.limit)}`;
    default:
      return error.message;
  }
}

function readSecret(
  env: NodeJS.ProcessEnv,
  name:
    | 'DATABASE_PASSWORD'
    | 'REDIS_PASSWORD'
    | 'ANTHROPIC_API_KEY'
    | 'ELEVENLABS_API_KEY'
    | 'FAL_KEY'
    | 'ARCHIBALD_API_KEY',
  issues: ConfigIssue[],
): Secret | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) {
    issues.push({ variable: name, value: '[secret]', rule: `set either ${name} or ${name}_FILE, not both` });
    return undefined;
  }
  if (file) {
    try {
      return new FileSecret(resolve(file));
    } catch (error) {
      issues.push({
        variable: `${name}_FILE`,
        value: file,
        rule: `must name a readable, non-empty file (${(error as Error).message})`,
      });
      return undefined;
    }
  }
  return direct ? envSecret(direct, name) : undefined;
}

function parseNodes(list: string): RedisNode[] {
  return list.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
}

/** An IP address or CIDR, or one of proxy-addr's names (loopback, linklocal, uniquelocal). */
function isProxyAddress(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * The config from an environment (the process's own by default). `defaults` stand in for the
 * variables the environment does not set, ahead of the schema's defaults (the demo's port 0).
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  defaults: Partial<Record<ConfigVariableName, string>> = {},
): Config {
  env = { ...defaults, ...env };
  const values: Record<string, unknown> = {};
  for (const { name } of configVariables) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') values[name] = convert(name, raw);
  }
  const issues: ConfigIssue[] = [];
  for (const error of checker.Errors(values)) {
    const variable = error.instancePath.replace(/^\//, '');
    if (!variable) continue;
    const raw = env[variable];
    issues.push({
      variable,
      ...(raw === undefined ? {} : { value: secretNames.has(variable) ? '[secret]' : raw }),
      rule: rule(error as unknown as Parameters<typeof rule>[0]),
    });
  }
  const e = Value.Default(configSchema, values) as Required<
    Omit<
      ConfigEnv,
      | 'DATABASE_READ_URL'
      | 'REDIS_CLUSTER_NODES'
      | 'S3_BUCKET'
      | 'S3_ENDPOINT'
      | 'CDN_BASE_URL'
      | 'API_URL'
      | 'ANTHROPIC_BASE_URL'
      | 'MODEL_PRICES_FILE'
      | 'MEDIA_PRICES_FILE'
      | 'OTEL_EXPORTER_OTLP_ENDPOINT'
      | 'OTEL_SERVICE_NAME'
      | 'OTEL_TRACES_SAMPLER_ARG'
      | 'OTEL_RESOURCE_ATTRIBUTES'
    >
  > &
    ConfigEnv;

  const databasePassword = readSecret(env, 'DATABASE_PASSWORD', issues);
  const redisPassword = readSecret(env, 'REDIS_PASSWORD', issues);
  const anthropicApiKey = readSecret(env, 'ANTHROPIC_API_KEY', issues);
  const elevenLabsApiKey = readSecret(env, 'ELEVENLABS_API_KEY', issues);
  const falKey = readSecret(env, 'FAL_KEY', issues);
  const apiKey = readSecret(env, 'ARCHIBALD_API_KEY', issues);
  const trustProxy = e.TRUST_PROXY.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const badProxy = trustProxy.find((entry) => !isProxyAddress(entry));
  if (badProxy !== undefined) {
    issues.push({
      variable: 'TRUST_PROXY',
      value: e.TRUST_PROXY,
      rule: `${JSON.stringify(badProxy)} is not an IP address or CIDR (e.g. 10.0.0.0/16,10.0.1.0/24)`,
    });
  }
  if (e.S3_BUCKET && !e.CDN_BASE_URL && !e.S3_ENDPOINT) {
    issues.push({
      variable: 'CDN_BASE_URL',
      rule: 'is required when S3_BUCKET is set (public URL of the videos)',
    });
  }
  if (issues.length > 0) {
    for (const s of [databasePassword, redisPassword, anthropicApiKey, elevenLabsApiKey, falKey, apiKey])
      s?.close();
    throw new ConfigError(issues);
  }

  return {
    version: packageVersion(),
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    apiMetricsPort: e.API_METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    database: {
      url: e.DATABASE_URL,
      readUrls: e.DATABASE_READ_URL ? e.DATABASE_READ_URL.split(',') : [],
      ...(databasePassword ? { password: databasePassword } : {}),
      poolMax: e.DATABASE_POOL_MAX,
    },
    redis: {
      url: e.REDIS_URL,
      ...(e.REDIS_CLUSTER_NODES ? { clusterNodes: parseNodes(e.REDIS_CLUSTER_NODES) } : {}),
      ...(redisPassword ? { password: redisPassword } : {}),
      tls: e.REDIS_TLS,
    },
    queue: { prefix: e.QUEUE_PREFIX, attempts: e.JOB_ATTEMPTS, timeoutSeconds: e.JOB_TIMEOUT_SECONDS },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      shutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS,
      lockSeconds: e.WORKER_LOCK_SECONDS,
      reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    },
    workDir: resolve(e.WORK_DIR),
    assetCacheDir: resolve(e.ASSET_CACHE_DIR),
    assetCacheMaxBytes: e.ASSET_CACHE_MAX_BYTES,
    storageDir: resolve(e.STORAGE_DIR),
    publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    ...(e.S3_BUCKET
      ? {
          s3: {
            bucket: e.S3_BUCKET,
            region: e.S3_REGION,
            ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
            forcePathStyle: e.S3_FORCE_PATH_STYLE,
            ...(e.CDN_BASE_URL ? { cdnBaseUrl: e.CDN_BASE_URL.replace(/\/+$/, '') } : {}),
            presignedUrlSeconds: e.S3_PRESIGNED_URL_SECONDS,
          },
        }
      : {}),
    rateLimit: {
      max: e.RATE_LIMIT_MAX,
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      authFailuresMax: e.RATE_LIMIT_AUTH_FAILURES_MAX,
    },
    apiKeys: {
      ttlDays: e.API_KEY_TTL_DAYS,
      rotationOverlapHours: e.API_KEY_ROTATION_OVERLAP_HOURS,
      cacheSeconds: e.API_KEY_CACHE_SECONDS,
    },
    eventStreamsPerKeyMax: e.EVENT_STREAMS_PER_KEY_MAX,
    trustProxy,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...(anthropicApiKey ? { anthropicApiKey } : {}),
    scriptModels: {
      cheap: e.SCRIPT_MODEL_CHEAP,
      premium: e.SCRIPT_MODEL_PREMIUM,
      ...(e.ANTHROPIC_BASE_URL ? { baseUrl: e.ANTHROPIC_BASE_URL.replace(/\/+$/, '') } : {}),
      videoBudgetUsd: e.VIDEO_BUDGET_USD,
      ...(e.MODEL_PRICES_FILE ? { pricesFile: resolve(e.MODEL_PRICES_FILE) } : {}),
      cacheTtlSeconds: e.SCRIPT_CACHE_TTL_SECONDS,
    },
    delegation: {
      patternRetentionHours: e.PATTERN_RETENTION_HOURS,
      callRetentionHours: e.PROVIDER_CALL_RETENTION_HOURS,
      minAttempts: e.PATTERN_MIN_ATTEMPTS,
      minCheapSuccessRate: e.PATTERN_MIN_CHEAP_SUCCESS_RATE,
    },
    ...(elevenLabsApiKey ? { elevenLabsApiKey } : {}),
    elevenLabs: {
      baseUrl: e.ELEVENLABS_BASE_URL.replace(/\/+$/, ''),
      voiceId: e.ELEVENLABS_VOICE_ID,
      model: e.ELEVENLABS_MODEL,
    },
    ...(falKey ? { falKey } : {}),
    fal: { baseUrl: e.FAL_BASE_URL.replace(/\/+$/, ''), model: e.FAL_MODEL },
    ...(e.MEDIA_PRICES_FILE ? { mediaPricesFile: resolve(e.MEDIA_PRICES_FILE) } : {}),
    migrateOnStart: e.MIGRATE_ON_START,
    ...(e.API_URL ? { apiUrl: e.API_URL.replace(/\/+$/, '') } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...tracingFrom(e),
  };
}

const OTEL_NAMES = configVariables.map((v) => v.name).filter((name) => name.startsWith('OTEL_'));

function tracingFrom(e: ConfigEnv): { tracing?: TracingConfig } {
  if (!e.OTEL_EXPORTER_OTLP_ENDPOINT) return {};
  return {
    tracing: {
      endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      protocol: e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
      ...(e.OTEL_SERVICE_NAME ? { serviceName: e.OTEL_SERVICE_NAME } : {}),
      sampler: e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
      ...(e.OTEL_TRACES_SAMPLER_ARG !== undefined ? { samplerArg: e.OTEL_TRACES_SAMPLER_ARG } : {}),
      ...(e.OTEL_RESOURCE_ATTRIBUTES ? { resourceAttributes: e.OTEL_RESOURCE_ATTRIBUTES } : {}),
    },
  };
}

/**
 * Only the tracing settings, for the process entry point, which starts tracing before the rest of
 * the runtime loads (so before the full config, whose secret files it would otherwise open twice).
 * A bad OTEL_* value leaves tracing off here; loadConfig then stops the command with its message.
 */
export function loadTracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig | undefined {
  const values: Record<string, unknown> = {};
  for (const name of OTEL_NAMES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = convert(name, raw);
    if (!Value.Check(configSchema.properties[name], value)) return undefined;
    values[name] = value;
  }
  return tracingFrom(Value.Default(configSchema, values) as ConfigEnv).tracing;
}

/** Releases the file watchers of the config's secrets. */
export function closeConfig(config: Config): void {
  config.database.password?.close();
  config.redis.password?.close();
  config.anthropicApiKey?.close();
  config.elevenLabsApiKey?.close();
  config.falKey?.close();
  config.apiKey?.close();
}
