/** Starting the worker in-process against a test environment (with clean-up registered). */
import { closeConfig } from '../../runtime/config/load.js';
import { startWorkerProcess } from '../../runtime/worker/process.js';
import type { WorkerProcess, WorkerStages } from '../../runtime/worker/process.js';
import type { TestEnvironment } from './environment.js';

export async function startTestWorker(
  environment: TestEnvironment,
  stages: WorkerStages,
  overrides: Record<string, string> = {},
): Promise<WorkerProcess> {
  const config = environment.config(overrides);
  const worker = await startWorkerProcess(config, stages);
  environment.defer(async () => {
    await worker.stop();
    closeConfig(config);
  });
  return worker;
}
