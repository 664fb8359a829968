/**
 * A worker process for tests: the real worker (runtime/worker/process.ts) with the fixture stages,
 * configured from the environment like `archibald worker`. Prints "ready <metricsUrl>" when it
 * takes jobs, and stops gracefully on SIGTERM.
 */
import { loadConfig } from '../../runtime/config/load.js';
import { startWorkerProcess } from '../../runtime/worker/process.js';
import { fixtureOptionsFromEnv, fixtureStages } from './fixture-stages.js';

const worker = await startWorkerProcess(loadConfig(), fixtureStages(fixtureOptionsFromEnv()));
process.stdout.write(`ready ${worker.metricsUrl}\n`);
process.once('SIGTERM', () => {
  void worker.stop().then(() => {
    process.stdout.write('stopped\n');
    process.exit(0);
  });
});
