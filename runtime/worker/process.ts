/**
 * The worker process: Postgres, the BullMQ worker with the given stages, and /metrics + /health on
 * METRICS_PORT. The CLI's `archibald worker` calls this with the pipeline's stages.
 */
import type { Logger } from 'pino';
import { createLogger } from '../config/logger.js';
import type { Config } from '../config/load.js';
import { createDatabase } from '../db/pool.js';
import { createProcessMetrics } from '../metrics/registry.js';
import type { Metrics } from '../metrics/registry.js';
import type { Stage } from '../pipeline/stage.js';
import { startMetricsServer } from './metrics-server.js';
import { startProviderServices, type ProviderServices } from './provider-services.js';
import { VideoWorker } from './video-worker.js';

export interface WorkerProcess {
  worker: VideoWorker;
  metricsUrl: string;
  /** Graceful: stop taking jobs, finish or release the running ones, disconnect. */
  stop(): Promise<void>;
  /** Settles with the error if the job loop dies; the process should then exit non-zero. */
  failed: Promise<Error>;
}

/**
 * The stages, or a function that builds them with the process's metrics and provider services
 * (the script writer counts its calls, records them, caches and remembers).
 */
export type WorkerStages =
  readonly Stage[] | ((metrics: Metrics, providers: ProviderServices) => readonly Stage[]);

export async function startWorkerProcess(
  config: Config,
  stagesOrFactory: WorkerStages,
  log: Logger = createLogger(config, 'worker'),
): Promise<WorkerProcess> {
  const db = createDatabase(config.database, log);
  const { registry, metrics } = createProcessMetrics('worker', config.version, {
    exemplars: config.tracing !== undefined,
  });
  const providers = startProviderServices(config, db, metrics, log);
  const stages =
    typeof stagesOrFactory === 'function' ? stagesOrFactory(metrics, providers) : stagesOrFactory;
  const worker = new VideoWorker({ config, db, stages, log, metrics });
  let stopping = false;
  const server = await startMetricsServer(registry, {
    host: config.host,
    port: config.metricsPort,
    healthy: () => !stopping && worker.healthy,
  });
  try {
    await worker.start();
  } catch (error) {
    await worker.stop().catch(() => {});
    await server.close();
    await providers.stop();
    await db.close();
    throw error;
  }
  log.info({ metrics: server.url }, 'worker metrics listening');
  let stopped: Promise<void> | undefined;
  return {
    worker,
    metricsUrl: server.url,
    failed: worker.failed,
    stop() {
      stopping = true;
      stopped ??= (async () => {
        await worker.stop();
        await server.close();
        await providers.stop();
        await db.close();
      })();
      return stopped;
    },
  };
}
