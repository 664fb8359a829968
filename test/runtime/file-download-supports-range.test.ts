import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRange } from '../../runtime/api/range.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';

test('Range headers parse per RFC 9110 (one range; others served whole or refused)', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=50-500', 100), { kind: 'partial', start: 50, end: 99 });
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=9-0', 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
  assert.deepEqual(parseRange('items=0-1', 100), { kind: 'full' });
});

test('GET /v1/videos/:id/file serves the stored file with Range; 409 before completion, 404 when absent', async () => {
  const environment = await useTestEnvironment();
  const api = await startTestApi(environment);
  const { key } = await createTestKey(environment);
  const call = apiClient(api.url, key);
  const pool = testPool(environment);

  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'download me' } })).body;
  const early = await call('GET', `/v1/videos/${id}/file`);
  assert.equal(early.status, 409);
  assert.match(early.body.message, /is queued, not completed/);

  // Stand-in bytes at the published path: this test is about serving, not rendering.
  await pool.query(`UPDATE videos SET status = 'completed', progress = 100 WHERE id = $1`, [id]);
  assert.equal((await call('GET', `/v1/videos/${id}/file`)).status, 404);
  const bytes = randomBytes(10_000);
  await mkdir(join(environment.env.STORAGE_DIR!, 'videos'), { recursive: true });
  await writeFile(join(environment.env.STORAGE_DIR!, 'videos', `${id}.mp4`), bytes);

  const auth = { authorization: `Bearer ${key}` };
  const url = `${api.url}/v1/videos/${id}/file`;
  const whole = await fetch(url, { headers: auth });
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('content-type'), 'video/mp4');
  assert.equal(whole.headers.get('accept-ranges'), 'bytes');
  assert.deepEqual(Buffer.from(await whole.arrayBuffer()), bytes);

  const part = await fetch(url, { headers: { ...auth, range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 100-199/10000');
  assert.equal(part.headers.get('content-length'), '100');
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200));

  const tail = await fetch(url, { headers: { ...auth, range: 'bytes=-16' } });
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(10_000 - 16));

  const beyond = await fetch(url, { headers: { ...auth, range: 'bytes=20000-' } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), 'bytes */10000');
  assert.equal(((await beyond.json()) as { statusCode: number }).statusCode, 416);

  const head = await fetch(url, { method: 'HEAD', headers: auth });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '10000');
});
