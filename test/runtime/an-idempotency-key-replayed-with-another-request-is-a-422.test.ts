import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const pool = testPool(environment);

test('the same request replayed with its idempotencyKey is the same video (200), defaults spelled out or not', async () => {
  const first = await call('POST', '/v1/videos', {
    body: { topic: 'morning calm', idempotencyKey: 'same-1' },
  });
  assert.equal(first.status, 202);
  const replay = await call('POST', '/v1/videos', {
    body: { idempotencyKey: 'same-1', aspect: '16:9', topic: 'morning calm', burnCaptions: true },
  });
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  assert.equal(replay.body.id, first.body.id);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
});

test('the key replayed with a different request is a 422 that names the key, and nothing is created', async () => {
  const first = await call('POST', '/v1/videos', {
    body: { topic: 'evening rain', durationSeconds: 30, idempotencyKey: 'order-7' },
  });
  assert.equal(first.status, 202);
  for (const other of [
    { topic: 'evening wind', durationSeconds: 30 },
    { topic: 'evening rain', durationSeconds: 45 },
    { topic: 'evening rain', durationSeconds: 30, seed: 'abc123' },
    { topic: 'evening rain', durationSeconds: 30, voice: 'kal' },
  ]) {
    const refused = await call('POST', '/v1/videos', { body: { ...other, idempotencyKey: 'order-7' } });
    assert.equal(refused.status, 422, JSON.stringify(other));
    assert.equal(refused.body.error, 'Unprocessable Entity');
    assert.match(refused.body.message, /idempotencyKey "order-7" was already used for a different request/);
    assert.equal(refused.body.requestId, refused.headers.get('x-request-id'));
  }
  const rows = await pool.query('SELECT id, spec FROM videos WHERE idempotency_key = $1', ['order-7']);
  assert.deepEqual(
    rows.rows.map((r) => [r.id, r.spec.topic, r.spec.durationSeconds]),
    [[first.body.id, 'evening rain', 30]],
  );
  // The original request still replays.
  const replay = await call('POST', '/v1/videos', {
    body: { topic: 'evening rain', durationSeconds: 30, idempotencyKey: 'order-7' },
  });
  assert.equal(replay.status, 200);
  assert.equal(replay.body.id, first.body.id);
});

test('a video stored before fingerprints existed still replays by its key', async () => {
  const first = await call('POST', '/v1/videos', { body: { topic: 'old row', idempotencyKey: 'legacy-1' } });
  assert.equal(first.status, 202);
  await pool.query('UPDATE videos SET request_fingerprint = NULL WHERE id = $1', [first.body.id]);
  const replay = await call('POST', '/v1/videos', { body: { topic: 'old row', idempotencyKey: 'legacy-1' } });
  assert.equal(replay.status, 200);
  assert.equal(replay.body.id, first.body.id);
});
