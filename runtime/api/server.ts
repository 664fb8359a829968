/**
 * The API process: connects Postgres and Redis, applies migrations when MIGRATE_ON_START, builds
 * the app and listens on HOST:PORT; /metrics (and a /health) are on HOST:API_METRICS_PORT, a
 * listener of their own that only the cluster's monitoring reaches. close() stops accepting,
 * drains, then disconnects.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/load.js';
import { createLogger, flushLogger } from '../config/logger.js';
import { loadMigrations, migrate } from '../db/migrate.js';
import { createDatabase } from '../db/pool.js';
import { createProcessMetrics } from '../metrics/registry.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { createVideoQueue } from '../queue/video-queue.js';
import { S3Storage } from '../storage/s3-storage.js';
import { startMetricsServer } from '../worker/metrics-server.js';
import type { MetricsServer } from '../worker/metrics-server.js';
import { buildApi } from './app.js';

// Kept here too for callers that import it from the server module.
export { createLogger };

export interface ApiServer {
  app: FastifyInstance;
  /** The listening URL (port 0 resolved). */
  url: string;
  /** The internal metrics listener's URL (/metrics, /health). */
  metricsUrl: string;
  close(): Promise<void>;
}

export async function startApiServer(
  config: Config,
  log = createLogger(config, 'api', { asynchronous: true }),
): Promise<ApiServer> {
  const db = createDatabase(config.database, log);
  const redis = createRedis(config.redis, { name: 'api', maxRetriesPerRequest: 2, log });
  const queue = createVideoQueue(redis, config.queue);
  queue.on('error', (error) => log.warn({ err: error }, 'queue error'));
  const metrics = createProcessMetrics('api', config.version, {
    exemplars: config.tracing !== undefined,
    queueCounts: () =>
      queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
  });
  const migrations = loadMigrations();
  const s3 = config.s3
    ? new S3Storage({
        bucket: config.s3.bucket,
        region: config.s3.region,
        ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
        forcePathStyle: config.s3.forcePathStyle,
        cdnBaseUrl: config.s3.cdnBaseUrl ?? `${config.s3.endpoint}/${config.s3.bucket}`,
      })
    : undefined;
  let metricsServer: MetricsServer | undefined;
  const shutdown = async () => {
    await metricsServer?.close();
    s3?.destroy();
    await queue.close().catch(() => {});
    await closeRedis(redis);
    await db.close().catch(() => {});
    // The request lines written so far reach stdout before close() resolves (SIGTERM included).
    await flushLogger(log);
  };
  try {
    if (config.migrateOnStart) {
      const applied = await migrate(db.primary, log, migrations);
      if (applied.length > 0) log.info({ applied }, 'migrations applied at start');
    }
    const app = await buildApi({ config, db, redis, queue, metrics, log, ...(s3 ? { s3 } : {}) }, migrations);
    let closed = false;
    metricsServer = await startMetricsServer(metrics.registry, {
      host: config.host,
      port: config.apiMetricsPort,
      healthy: () => !closed,
    });
    const address = await app.listen({ port: config.port, host: config.host });
    log.info({ address, metrics: metricsServer.url }, 'api listening');
    return {
      app,
      url: address,
      metricsUrl: metricsServer.url,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        await shutdown();
      },
    };
  } catch (error) {
    await shutdown();
    throw error;
  }
}
