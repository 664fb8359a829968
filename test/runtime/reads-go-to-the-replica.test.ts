import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

test('with DATABASE_READ_URL, GET routes read from the replica and writes stay on the primary', async () => {
  const environment = await useTestEnvironment();
  // The "replica" is the same database reached through a proxy, so the test can see its traffic.
  const replica = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  environment.defer(() => replica.close());
  const readUrl = new URL(environment.database.url);
  readUrl.port = String(replica.port);
  const api = await startTestApi(environment, { DATABASE_READ_URL: readUrl.toString() });
  const { key } = await createTestKey(environment);
  const call = apiClient(api.url, key);

  const created = await call('POST', '/v1/videos', { body: { topic: 'replica reads' } });
  assert.equal(created.status, 202);
  assert.equal(replica.connections, 0, 'a write went to the replica');

  const read = await call('GET', `/v1/videos/${created.body.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.id, created.body.id);
  assert.equal((await call('GET', '/v1/videos')).body.items.length, 1);
  assert.ok(replica.connections > 0, 'reads did not use the replica');

  // Replica down: reads answer 503, writes still work, /ready names the replica.
  replica.cut();
  assert.equal((await call('GET', `/v1/videos/${created.body.id}`)).status, 503);
  assert.equal((await call('POST', '/v1/videos', { body: { topic: 'still writing' } })).status, 202);
  const ready = await call('GET', '/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks.postgresReplica.ok, false);
});

test('with several read replicas, GET routes spread their reads over all of them', async () => {
  const environment = await useTestEnvironment();
  const replicas = await Promise.all([0, 1].map(() => startTcpProxy({ host: '127.0.0.1', port: 5432 })));
  for (const replica of replicas) environment.defer(() => replica.close());
  const urls = replicas.map((replica) => {
    const url = new URL(environment.database.url);
    url.port = String(replica.port);
    return url.toString();
  });
  const api = await startTestApi(environment, { DATABASE_READ_URL: urls.join(',') });
  const { key } = await createTestKey(environment);
  const call = apiClient(api.url, key);

  const created = await call('POST', '/v1/videos', { body: { topic: 'spread reads' } });
  assert.equal(created.status, 202);
  for (let i = 0; i < 4; i++) assert.equal((await call('GET', `/v1/videos/${created.body.id}`)).status, 200);
  for (const [i, replica] of replicas.entries())
    assert.ok(replica.connections > 0, `replica ${i} served no reads`);

  // Any replica down: /ready says so.
  replicas[1]?.cut();
  const ready = await call('GET', '/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks.postgresReplica.ok, false);
});
