/**
 * The API writes its log through an asynchronous destination; stopping it with SIGTERM right after
 * a burst of requests must still leave one complete JSON line per request on stdout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestEnvironment } from '../support/environment.js';
import { createTestKey } from '../support/api.js';
import { runCli, spawnCli } from '../support/processes.js';

const environment = await useTestEnvironment({
  LOG_LEVEL: 'info',
  // The burst below comes from one address; the per-address limit is not what this test is about.
  RATE_LIMIT_AUTH_FAILURES_MAX: '100000',
});

test('every request line logged before SIGTERM is on stdout when the API has exited', async () => {
  const migrated = await runCli(environment, ['migrate']);
  assert.equal(migrated.code, 0, migrated.stderr);
  const { key } = await createTestKey(environment);
  const serve = spawnCli(environment, ['serve']);
  const [, url] = await serve.waitFor(/"address":"(http:\/\/[^"]+)"/);

  const ids = Array.from({ length: 200 }, (_, i) => `flush-check-${i}`);
  const statuses = await Promise.all(
    ids.map(async (id) => {
      const response = await fetch(`${url}/v1/videos?limit=1`, {
        headers: { authorization: `Bearer ${key}`, 'x-request-id': id },
      });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  assert.deepEqual(new Set(statuses), new Set([200]));
  serve.process.kill('SIGTERM');
  const exit = await serve.exited;
  assert.equal(exit.code, 0, serve.output());

  const lines = serve.output().split('\n').filter(Boolean);
  const logged = new Set<string>();
  for (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string; reqId?: string; statusCode?: number };
    if (entry.msg === 'request' && entry.reqId) logged.add(entry.reqId);
  }
  const missing = ids.filter((id) => !logged.has(id));
  assert.deepEqual(missing, [], `request lines missing from the log: ${missing.length}`);
});
