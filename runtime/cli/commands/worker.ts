import type { Command } from 'commander';
import { createLogger } from '../../config/logger.js';
import { pipelineStages } from '../../worker/pipeline-stages.js';
import { startWorkerProcess } from '../../worker/process.js';
import { configOrExit, untilSignal } from '../run.js';

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
      const stages = pipelineStages(config);
      const worker = await startWorkerProcess(config, stages, log);
      await untilSignal();
      await worker.stop();
    });
}
