/** Starting the worker in-process against a test environment (with clean-up registered). */
import { closeConfig } from '../../runtime/config/load.js';
import type { Stage } from '../../runtime/pipeline/stage.js';
import { startWorkerProcess } from '../../runtime/worker/process.js';
import type { WorkerProcess } from '../../runtime/worker/process.js';
import type { TestEnvironment } from './environment.js';

export async function startTestWorker(
  environment: TestEnvironment,
  stages: readonly Stage[],
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
