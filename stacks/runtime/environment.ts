import type { StackConfig } from '../config.js';
import { DEV_NODE_PORTS, devUrl } from '../dev/kind.js';
import { poolMaxPerProcess } from '../planning/database.js';
import { traceSampler } from '../planning/observability.js';
import { workerScaling } from '../planning/scaling.js';
import type { Tier } from '../tiers.js';
import { vaultSecretFile } from '../vault-access.js';

export const API_PORT = 8080;
export const WORKER_METRICS_PORT = 9464;
/** The API's /metrics listener, apart from API_PORT: only the monitoring namespace reaches it. */
export const API_METRICS_PORT = 9465;
export const QUEUE_PREFIX = '{archibald}';

/** Where the read-only root filesystem gets writable volumes. */
export const PATHS = {
  work: '/var/lib/archibald/work',
  assetCache: '/var/cache/archibald',
  storage: '/var/lib/archibald/videos',
  tmp: '/tmp',
} as const;

/**
 * The CA bundle Postgres server certificates are verified against (sslrootcert). The image ships
 * the RDS bundle here (runtime/Dockerfile); in-cluster, CloudNativePG's CA is mounted over it.
 */
export const POSTGRES_CA_DIR = '/etc/archibald/postgres-ca';
export const POSTGRES_CA_FILE = `${POSTGRES_CA_DIR}/ca.crt`;

export interface RuntimeEndpoints {
  /** Postgres primary and read replica hosts (port 5432), each a name its certificate carries. */
  readonly databaseHost: string;
  readonly databaseReaderHosts: readonly string[];
  readonly databaseName: string;
  readonly databaseUser: string;
  /** host:port of Redis (cluster configuration endpoint or single node). */
  readonly redisEndpoint: string;
  readonly redisCluster: boolean;
  readonly redisTls: boolean;
  /** S3 mode: the bucket, its region and the CDN's base URL. */
  readonly s3?: { bucket: string; region: string; cdnBaseUrl: string };
  readonly hasAnthropicKey: boolean;
  /** The OTLP/HTTP endpoint of the collector the runtime sends its traces to. */
  readonly otlpEndpoint: string;
}

/**
 * The service name each process reports its spans under (OTEL_SERVICE_NAME, set per container so
 * Jaeger shows the POST in the API and its stages in the worker).
 */
export function otelServiceName(role: 'api' | 'worker' | 'migrate'): string {
  return `archibald-${role}`;
}

/**
 * The runtime's OTEL_* variables (the OpenTelemetry SDK's standard names) shared by its
 * processes: OTLP over HTTP to the collector, the tier's sampler, and the deployment on every span.
 */
export function otelEnvironment(
  tier: Tier,
  a: { endpoint: string; deployment: string },
): Record<string, string> {
  const sampler = traceSampler(tier);
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: a.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: sampler.sampler,
    ...(sampler.arg !== undefined ? { OTEL_TRACES_SAMPLER_ARG: sampler.arg } : {}),
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${a.deployment},service.namespace=archibald`,
  };
}

export function publicBaseUrl(cfg: StackConfig): string {
  // dev serves plain HTTP on the NodePort kind forwards to the host (stacks/dev/kind-cluster.yaml);
  // every EKS stack terminates TLS on the ALB.
  return cfg.clusterMode === 'existing' ? devUrl(cfg.domain, DEV_NODE_PORTS.api) : `https://${cfg.domain}`;
}

/**
 * The asset cache's cap: 90% of its volume. The rest holds renders in progress (a background loop
 * or a bed is a few MB, a handful at once per pod) so the emptyDir never reaches its sizeLimit,
 * where the kubelet would evict the pod.
 */
export function assetCacheMaxBytes(tier: Tier): number {
  return Math.floor(tier.worker.assetCacheGiB * 1024 ** 3 * 0.9);
}

/**
 * What every deployment of the runtime sets the same way from the tier (the stacks' ConfigMap and
 * the single-node compose file): listeners, the image's writable paths, sizes and limits.
 */
export function processEnvironment(tier: Tier): Record<string, string> {
  const scaling = workerScaling(tier);
  return {
    PORT: String(API_PORT),
    HOST: '0.0.0.0',
    METRICS_PORT: String(WORKER_METRICS_PORT),
    API_METRICS_PORT: String(API_METRICS_PORT),
    LOG_LEVEL: tier.name === 'dev' ? 'debug' : 'info',
    DATABASE_POOL_MAX: String(poolMaxPerProcess(tier)),
    QUEUE_PREFIX,
    WORKER_CONCURRENCY: String(scaling.concurrency),
    WORKER_SHUTDOWN_GRACE_SECONDS: String(tier.worker.shutdownGraceSeconds),
    JOB_ATTEMPTS: String(tier.worker.jobAttempts),
    JOB_TIMEOUT_SECONDS: String(tier.worker.jobTimeoutSeconds),
    WORK_DIR: PATHS.work,
    ASSET_CACHE_DIR: PATHS.assetCache,
    ASSET_CACHE_MAX_BYTES: String(assetCacheMaxBytes(tier)),
    RATE_LIMIT_MAX: String(tier.api.rateLimitMax),
    RATE_LIMIT_WINDOW_SECONDS: String(tier.api.rateLimitWindowSeconds),
  };
}

/**
 * The runtime's environment (the ConfigMap's data), with the names runtime/config/schema.ts reads.
 * Secrets are never values here: the *_FILE variables point at the files Vault Agent renders.
 */
export function runtimeEnvironment(
  cfg: StackConfig,
  tier: Tier,
  e: RuntimeEndpoints,
): Record<string, string> {
  // node-postgres treats sslmode=require as verify-full against Node's public roots, which trust
  // neither RDS nor CloudNativePG: verify the full chain and host against the CA that signed them.
  const pg = (host: string): string =>
    `postgres://${e.databaseUser}@${host}:5432/${e.databaseName}?sslmode=verify-full&sslrootcert=${POSTGRES_CA_FILE}`;
  const env: Record<string, string> = {
    ...processEnvironment(tier),
    DATABASE_URL: pg(e.databaseHost),
    DATABASE_PASSWORD_FILE: vaultSecretFile('databasePassword'),
    REDIS_PASSWORD_FILE: vaultSecretFile('redisPassword'),
    REDIS_TLS: String(e.redisTls),
    PUBLIC_BASE_URL: publicBaseUrl(cfg),
    // The migration Job applies migrations before the API rolls; pods never race to migrate.
    MIGRATE_ON_START: 'false',
    ...otelEnvironment(tier, { endpoint: e.otlpEndpoint, deployment: cfg.stack }),
  };
  if (e.databaseReaderHosts.length > 0) env.DATABASE_READ_URL = e.databaseReaderHosts.map(pg).join(',');
  if (e.redisCluster) env.REDIS_CLUSTER_NODES = e.redisEndpoint;
  else env.REDIS_URL = `${e.redisTls ? 'rediss' : 'redis'}://${e.redisEndpoint}`;
  if (e.s3) {
    env.S3_BUCKET = e.s3.bucket;
    env.S3_REGION = e.s3.region;
    env.CDN_BASE_URL = e.s3.cdnBaseUrl;
  } else {
    env.STORAGE_DIR = PATHS.storage;
  }
  if (e.hasAnthropicKey) {
    env.ANTHROPIC_API_KEY_FILE = vaultSecretFile('anthropicApiKey');
    env.SCRIPT_MODEL_CHEAP = tier.scripts.cheapModel;
    env.SCRIPT_MODEL_PREMIUM = tier.scripts.premiumModel;
    env.VIDEO_BUDGET_USD = String(tier.scripts.videoBudgetUsd);
  }
  return env;
}
