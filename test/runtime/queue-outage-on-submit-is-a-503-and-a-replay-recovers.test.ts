import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { fixtureStages } from '../support/fixture-stages.js';
import { eventually } from '../support/processes.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { startTestWorker } from '../support/worker.js';

const environment = await useTestEnvironment();
const redis = new URL(TEST_REDIS_URL);
const proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
environment.defer(() => proxy.close());
const viaProxy = new URL(TEST_REDIS_URL);
viaProxy.port = String(proxy.port);
// Only the API reaches Redis through the proxy; the worker (started later) connects directly.
const api = await startTestApi(environment, { REDIS_URL: viaProxy.toString() });
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);

test('a submit the queue cannot take is a 503; replaying its idempotencyKey queues it once Redis is back', async () => {
  await proxy.refuse();
  const refused = await call('POST', '/v1/videos', {
    body: { topic: 'during a redis outage', idempotencyKey: 'outage-1' },
  });
  assert.equal(refused.status, 503);
  assert.match(refused.body.message, /queue is unavailable; retry later with the same idempotencyKey/);

  // Without an idempotencyKey nothing can queue that row again: it is failed, not left queued.
  const unkeyed = await call('POST', '/v1/videos', { body: { topic: 'no key, no replay' } });
  assert.equal(unkeyed.status, 503);
  assert.doesNotMatch(unkeyed.body.message, /idempotencyKey/);

  await proxy.restore();
  const replay = await eventually('the replay is accepted', async () => {
    const r = await call('POST', '/v1/videos', {
      body: { topic: 'during a redis outage', idempotencyKey: 'outage-1' },
    });
    return r.status === 503 ? undefined : r;
  });
  assert.equal(replay.status, 200);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.equal(replay.body.status, 'queued');

  const listed = await call('GET', '/v1/videos?status=failed');
  assert.equal(listed.body.items.length, 1);
  assert.equal(listed.body.items[0].request.topic, 'no key, no replay');
  assert.deepEqual(listed.body.items[0].error, { stage: null, message: 'could not be queued' });

  await startTestWorker(environment, fixtureStages({ ledger: join(environment.dir, 'ledger') }));
  await eventually('the replayed video completes', async () => {
    const r = await call('GET', `/v1/videos/${replay.body.id}`);
    return r.body.status === 'completed' ? true : undefined;
  });
});
