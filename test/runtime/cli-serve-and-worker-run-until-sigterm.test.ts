import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestEnvironment } from '../support/environment.js';
import { runCli, spawnCli } from '../support/processes.js';

const environment = await useTestEnvironment({ LOG_LEVEL: 'info' });

test('archibald migrate, serve and worker run from the CLI and exit cleanly on SIGTERM', async () => {
  const migrated = await runCli(environment, ['migrate']);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /applied: 1_initial/);
  assert.match((await runCli(environment, ['migrate'])).stdout, /up to date/);

  const serve = spawnCli(environment, ['serve']);
  const [, apiUrl] = await serve.waitFor(/"address":"(http:\/\/[^"]+)"/);
  assert.equal((await fetch(`${apiUrl}/ready`)).status, 200);

  const worker = spawnCli(environment, ['worker']);
  const [, metricsUrl] = await worker.waitFor(/"metrics":"(http:\/\/[^"]+)"/);
  const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
  assert.match(metrics, /^archibald_build_info\{version="[^"]+",role="worker"\} 1$/m);
  // The worker runs the render pipeline's stages.
  assert.match(
    worker.output(),
    /"stages":\["script","narration","visuals","captions","ambient","assemble","publish"\]/,
  );

  for (const child of [worker, serve]) {
    child.process.kill('SIGTERM');
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.output());
  }
  // JSON log lines only, none carrying the database URL.
  for (const line of (serve.output() + worker.output()).split('\n').filter(Boolean)) {
    assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
    assert.ok(!line.includes(environment.database.url), 'the database URL was logged');
  }
});

test('a bad configuration stops the CLI with exit code 2 and every problem named', async () => {
  const result = await runCli(environment, ['serve'], { PORT: 'http', WORKER_CONCURRENCY: '-1' });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /PORT="http": must be an integer/);
  assert.match(result.stderr, /WORKER_CONCURRENCY="-1": must be >= 1/);
});
