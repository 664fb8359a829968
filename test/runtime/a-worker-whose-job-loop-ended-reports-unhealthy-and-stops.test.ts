import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Worker } from 'bullmq';
import { useTestEnvironment } from '../support/environment.js';
import { fixtureStages } from '../support/fixture-stages.js';
import { eventually } from '../support/processes.js';
import { startTestWorker } from '../support/worker.js';

const environment = await useTestEnvironment();

test('a worker whose BullMQ job loop ended on its own fails /health and reports why, so it is restarted', async () => {
  const worker = await startTestWorker(
    environment,
    fixtureStages({ ledger: join(environment.dir, 'ledger') }),
  );
  assert.equal((await fetch(`${worker.metricsUrl}/health`)).status, 200);

  // The fault: BullMQ's loop returns while nobody asked the worker to stop. BullMQ 6 has no
  // outside trigger for that, so its own pause() ends the loop underneath our worker.
  const bull = (worker.worker as unknown as { worker: Worker }).worker;
  await bull.pause(true);

  const failure = await Promise.race([
    worker.failed,
    new Promise<undefined>((resolve) => setTimeout(resolve, 30_000, undefined)),
  ]);
  assert.ok(failure, 'the worker reported its dead loop');
  assert.match(failure.message, /job loop ended without a shutdown/);
  assert.equal(worker.worker.healthy, false);
  await eventually('/health failing', async () => {
    const health = await fetch(`${worker.metricsUrl}/health`);
    return health.status === 503 ? true : undefined;
  });
});
