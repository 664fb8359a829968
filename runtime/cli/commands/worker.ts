import type { Command } from 'commander';
import { createLogger } from '../../config/logger.js';
import { pipelineStages } from '../../worker/pipeline-stages.js';
import { startWorkerProcess } from '../../worker/process.js';
import { CliError, configOrExit, untilSignal } from '../run.js';

export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'run a queue worker (WORKER_CONCURRENCY jobs at once; /metrics and /health on METRICS_PORT); ' +
        'SIGTERM finishes or releases running jobs within WORKER_SHUTDOWN_GRACE_SECONDS',
    )
    .action(async () => {
      const config = configOrExit();
      const log = createLogger(config, 'worker');
      const worker = await startWorkerProcess(
        config,
        (metrics, providers) => pipelineStages(config, metrics, providers),
        log,
      );
      const ended = await Promise.race([untilSignal().then(() => undefined), worker.failed]);
      await worker.stop();
      // A dead job loop exits non-zero, so Kubernetes restarts the pod instead of keeping a
      // worker that looks alive and takes nothing.
      if (ended) throw new CliError(`worker stopped: ${ended.message}`, 1);
    });
}
