import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { eventually } from '../support/processes.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const environment = await useTestEnvironment();
const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
environment.defer(() => proxy.close());
const viaProxy = new URL(environment.database.url);
viaProxy.port = String(proxy.port);
const api = await startTestApi(environment, { DATABASE_URL: viaProxy.toString() });
const call = apiClient(api.url);
const { key } = await createTestKey(environment);

test('/ready is 503 naming Postgres while it is unreachable, and recovers; /health stays 200', async () => {
  const before = await call('GET', '/ready');
  assert.equal(before.status, 200);
  assert.deepEqual(before.body.checks.postgres, { ok: true });

  proxy.cut();
  const down = await eventually('ready 503', async () => {
    const r = await call('GET', '/ready');
    return r.status === 503 ? r : undefined;
  });
  assert.equal(down.body.status, 'not ready');
  assert.equal(down.body.checks.postgres.ok, false);
  assert.match(down.body.checks.postgres.error, /^postgres: /);
  assert.equal(down.body.checks.redis.ok, true);
  assert.equal((await call('GET', '/health')).status, 200);
  // Requests that need the database say so with a 503, not a 500.
  const submit = await apiClient(api.url, key)('POST', '/v1/videos', {
    body: { topic: 'during the outage' },
  });
  assert.equal(submit.status, 503);
  assert.match(submit.body.message, /database is unavailable/);

  await proxy.restore();
  const up = await eventually('ready 200 again', async () => {
    const r = await call('GET', '/ready');
    return r.status === 200 ? r : undefined;
  });
  assert.equal(up.body.status, 'ready');
});

test('/ready is 503 while a migration is pending', async () => {
  const pool = new pg.Pool({ connectionString: environment.database.url, max: 1 });
  try {
    await pool.query('DELETE FROM schema_migrations WHERE version = 1');
    const r = await call('GET', '/ready');
    assert.equal(r.status, 503);
    assert.match(r.body.checks.migrations.error, /pending: 1_initial/);
  } finally {
    await pool.query(
      `INSERT INTO schema_migrations (version, name) VALUES (1, 'initial') ON CONFLICT DO NOTHING`,
    );
    await pool.end();
  }
  assert.equal((await call('GET', '/ready')).status, 200);
});

test('with Redis unreachable: /ready is 503 naming Redis, a submission is a 503 and is not left queued', async () => {
  const redisProxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
  environment.defer(() => redisProxy.close());
  const other = await startTestApi(environment, { REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` });
  const client = apiClient(other.url, key);
  assert.equal((await client('GET', '/ready')).status, 200);

  redisProxy.cut();
  const ready = await eventually('ready 503', async () => {
    const r = await client('GET', '/ready');
    return r.status === 503 ? r : undefined;
  });
  assert.equal(ready.body.checks.redis.ok, false);
  assert.equal(ready.body.checks.postgres.ok, true);

  const submit = await client('POST', '/v1/videos', { body: { topic: 'no queue' } });
  assert.equal(submit.status, 503, JSON.stringify(submit.body));
  assert.match(submit.body.message, /queue is unavailable/);
  const listed = (await client('GET', '/v1/videos?limit=100')).body.items as Array<{
    request: { topic: string };
    status: string;
    error: { message: string };
  }>;
  const orphan = listed.find((v) => v.request.topic === 'no queue');
  assert.equal(orphan?.status, 'failed');
  assert.equal(orphan?.error.message, 'could not be queued');

  await redisProxy.restore();
  await eventually('ready again', async () =>
    (await client('GET', '/ready')).status === 200 ? true : undefined,
  );
});
