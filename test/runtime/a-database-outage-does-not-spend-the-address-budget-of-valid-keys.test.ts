import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { eventually } from '../support/processes.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

// The API reaches Postgres through a proxy the test can cut, with a small budget for requests
// without a valid key, so a few failed lookups would spend it.
const environment = await useTestEnvironment();
const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
environment.defer(() => proxy.close());
const viaProxy = new URL(environment.database.url);
viaProxy.port = String(proxy.port);
const api = await startTestApi(environment, {
  DATABASE_URL: viaProxy.toString(),
  RATE_LIMIT_AUTH_FAILURES_MAX: '3',
  API_KEY_CACHE_SECONDS: '0',
});
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);

test('requests with a valid key while Postgres is down do not leave the address refused afterwards', async () => {
  await proxy.refuse();
  for (let i = 0; i < 8; i++) {
    const r = await call('GET', '/v1/videos');
    assert.ok(r.status >= 500, `a lookup without Postgres fails as a server error (got ${r.status})`);
  }
  await proxy.restore();
  const back = await eventually('the key accepted again', async () => {
    const r = await call('GET', '/v1/videos');
    return r.status === 200 || r.status === 429 ? r : undefined;
  });
  assert.equal(
    back.status,
    200,
    `the address kept its budget (got ${back.status}: ${JSON.stringify(back.body)})`,
  );

  // Bad keys still spend it: the limit itself is intact.
  const bad = apiClient(api.url, 'ak_not-a-real-key');
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await bad('GET', '/v1/videos')).status);
  assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
});
