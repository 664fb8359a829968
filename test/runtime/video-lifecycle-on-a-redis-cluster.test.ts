import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cluster } from 'ioredis';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { fixtureStages, ledgerEntries } from '../support/fixture-stages.js';
import { eventually } from '../support/processes.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { readEvents } from '../support/sse.js';
import { startTestWorker } from '../support/worker.js';

const cluster = await startRedisCluster();
const environment = await useTestEnvironment({ REDIS_CLUSTER_NODES: cluster.nodeList });
// Registered first, so it runs last: after the API and worker have disconnected.
environment.defer(() => cluster.stop());
const ledger = join(environment.dir, 'ledger');
const api = await startTestApi(environment);
await startTestWorker(environment, fixtureStages({ ledger, narrationMs: 3000 }));
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);

test('on a 3-master Redis Cluster: submit → completed through the API and events; cancel reaches the worker', async () => {
  assert.equal((await call('GET', '/ready')).status, 200);
  const { body: created } = await call('POST', '/v1/videos', { body: { topic: 'cluster calm' } });
  const events = await readEvents(new URL(created.links.events, api.url).toString(), key);
  assert.equal(events.at(-1)?.event, 'end');
  assert.equal((events.at(-1)!.data as { status: string }).status, 'completed');

  const { body: long } = await call('POST', '/v1/videos', { body: { topic: 'cancel on the cluster' } });
  await eventually('running', async () =>
    (await call('GET', `/v1/videos/${long.id}`)).body.stage === 'narration' ? true : undefined,
  );
  assert.equal((await call('DELETE', `/v1/videos/${long.id}`)).status, 200);
  await eventually('narration aborted', async () => {
    const v = (await call('GET', `/v1/videos/${long.id}`)).body;
    return v.stages.find((s: { name: string }) => s.name === 'narration')?.status === 'cancelled'
      ? true
      : undefined;
  });
  assert.deepEqual(
    (await ledgerEntries(ledger)).filter((e) => e.videoId === long.id).map((e) => e.stage),
    ['script', 'narration'],
  );

  // Every queue key carries the hash tag, so the whole queue lives in one slot.
  const client = new Cluster(cluster.nodes);
  try {
    await new Promise((resolve, reject) => client.once('ready', resolve).once('error', reject));
    const keys: string[] = [];
    for (const node of client.nodes('master')) keys.push(...(await node.keys('*')));
    assert.ok(keys.length > 0);
    for (const k of keys) assert.ok(k.startsWith(environment.keyPrefix), `key outside the prefix: ${k}`);
    const slots = new Set(await Promise.all(keys.map((k) => client.cluster('KEYSLOT', k))));
    assert.equal(slots.size, 1, `keys spread over slots ${[...slots].join(', ')}`);
  } finally {
    client.disconnect();
  }
  const metrics = await (await fetch(`${api.metricsUrl}/metrics`)).text();
  assert.match(metrics, /^archibald_queue_jobs\{state="completed"\} 1$/m);
});
