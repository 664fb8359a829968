import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditEntries } from '../../runtime/db/audit.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { fixtureStages, ledgerEntries } from '../support/fixture-stages.js';
import { eventually } from '../support/processes.js';
import { readEvents } from '../support/sse.js';
import { startTestWorker } from '../support/worker.js';

const environment = await useTestEnvironment();
const ledger = join(environment.dir, 'ledger');
const api = await startTestApi(environment);
const { id: keyId, key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const pool = testPool(environment, 2);

const waitForStatus = (id: string, status: string) =>
  eventually(`video ${id} ${status}`, async () => {
    const r = await call('GET', `/v1/videos/${id}`);
    return r.body.status === status ? r.body : undefined;
  });

test('a cancelled queued video never starts', async () => {
  // No worker runs yet, so the job is still waiting in the queue.
  const created = await call('POST', '/v1/videos', { body: { topic: 'never started' } });
  assert.equal(created.status, 202);
  const cancelled = await call('DELETE', `/v1/videos/${created.body.id}`);
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.body.status, 'cancelled');
  const again = await call('DELETE', `/v1/videos/${created.body.id}`);
  assert.equal(again.status, 409);
  assert.match(again.body.message, /already cancelled/);

  await startTestWorker(environment, fixtureStages({ ledger, narrationMs: 3000 }));
  // A later job completing proves the worker drained the queue past the cancelled one.
  const later = await call('POST', '/v1/videos', { body: { topic: 'after the cancel' } });
  const laterId = later.body.id as string;
  await eventually('later video running', async () => {
    const r = await call('GET', `/v1/videos/${laterId}`);
    return r.body.status === 'running' ? true : undefined;
  });
  await call('DELETE', `/v1/videos/${laterId}`);
  const entries = await ledgerEntries(ledger);
  assert.equal(
    entries.filter((e) => e.videoId === created.body.id).length,
    0,
    'the cancelled video ran a stage',
  );
  const final = await call('GET', `/v1/videos/${created.body.id}`);
  assert.equal(final.body.status, 'cancelled');
  assert.deepEqual(final.body.stages, []);
  const audit = await auditEntries(pool, { subject: created.body.id });
  assert.deepEqual(
    audit.map((a) => [a.action, a.actor]),
    [
      ['video.created', `key:${keyId}`],
      ['video.cancelled', `key:${keyId}`],
    ],
  );
});

test('submit → queued → running → completed, observed through GET and the event stream', async () => {
  const created = await call('POST', '/v1/videos', {
    body: {
      topic: 'morning calm',
      durationSeconds: 60,
      aspect: '9:16',
      resolution: '1080p',
      voice: 'awb',
      style: 'sleep',
    },
  });
  assert.equal(created.status, 202);
  assert.equal(created.headers.get('location'), `/v1/videos/${created.body.id}`);
  assert.equal(created.body.status, 'queued');
  assert.equal(created.body.request.aspect, '9:16');
  assert.equal(created.body.request.burnCaptions, true);
  const id = created.body.id as string;

  const events = await readEvents(new URL(created.body.links.events, api.url).toString(), key);
  const names = events.map((e) => e.event);
  assert.equal(names.at(-1), 'end', `events: ${names.join(',')}`);
  const stagesSeen = events
    .filter((e) => e.event === 'stage')
    .map((e) => (e.data as { stage: string }).stage);
  assert.ok(stagesSeen.includes('narration'), `stage events: ${stagesSeen.join(',')}`);
  const progress = events
    .filter((e) => e.event === 'progress')
    .map((e) => (e.data as { progress: number }).progress);
  assert.ok(
    progress.some((p) => p > 0 && p < 100),
    `progress events: ${progress.join(',')}`,
  );
  assert.deepEqual(
    [...progress].sort((a, b) => a - b),
    progress,
    'progress went backwards',
  );
  const end = events.at(-1)!.data as { status: string };
  assert.equal(end.status, 'completed');

  const video = (await call('GET', `/v1/videos/${id}`)).body;
  assert.equal(video.status, 'completed');
  assert.equal(video.progress, 100);
  assert.equal(video.stage, null);
  assert.equal(video.error, null);
  assert.equal(video.attempts, 1);
  assert.ok(Math.abs(video.costUsd - 0.002) < 1e-9, `cost ${video.costUsd}`);
  assert.deepEqual(
    video.stages.map((s: { name: string; status: string }) => [s.name, s.status]),
    [
      ['script', 'completed'],
      ['narration', 'completed'],
      ['captions', 'completed'],
    ],
  );
  for (const s of video.stages) assert.ok(s.durationSeconds >= 0 && s.finishedAt, JSON.stringify(s));
  // The fixture pipeline has no publish stage, so there is no video file to serve.
  assert.equal(video.outputUrl, null);
  const file = await call('GET', `/v1/videos/${id}/file`);
  assert.equal(file.status, 404);

  const audit = await auditEntries(pool, { subject: id, action: 'video.completed' });
  assert.equal(audit.length, 1);
});

test('the same idempotency key from the same caller returns the same video', async () => {
  const body = { topic: 'evening wind-down', idempotencyKey: 'order-42' };
  const results = await Promise.all([1, 2, 3].map(() => call('POST', '/v1/videos', { body })));
  const ids = new Set(results.map((r) => r.body.id));
  assert.equal(ids.size, 1, `ids: ${[...ids].join(', ')}`);
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 202]);
  const count = await pool.query('SELECT count(*)::int AS n FROM videos WHERE idempotency_key = $1', [
    'order-42',
  ]);
  assert.equal(count.rows[0].n, 1);

  // Another caller's identical key is a different video.
  const other = await createTestKey(environment, 'other caller');
  const theirs = await apiClient(api.url, other.key)('POST', '/v1/videos', { body });
  assert.equal(theirs.status, 202);
  assert.notEqual(theirs.body.id, [...ids][0]);
  // ...and a caller cannot see another caller's video.
  assert.equal((await call('GET', `/v1/videos/${theirs.body.id}`)).status, 404);
  await waitForStatus([...ids][0], 'completed');
});

test('a running video is cancelled: its stage is aborted and it ends cancelled', async () => {
  await startTestWorker(environment, fixtureStages({ ledger, narrationMs: 60_000 }));
  const created = await call('POST', '/v1/videos', { body: { topic: 'long narration' } });
  const id = created.body.id as string;
  await eventually('narration running', async () => {
    const r = await call('GET', `/v1/videos/${id}`);
    return r.body.stage === 'narration' && r.body.status === 'running' ? true : undefined;
  });
  const cancelled = await call('DELETE', `/v1/videos/${id}`);
  assert.equal(cancelled.status, 200);
  assert.equal(cancelled.body.status, 'cancelled');
  const narration = await eventually('narration stage cancelled', async () => {
    const r = await call('GET', `/v1/videos/${id}`);
    const stage = r.body.stages.find((s: { name: string }) => s.name === 'narration');
    return stage?.status === 'cancelled' ? stage : undefined;
  });
  assert.match(narration.error, /cancelled/);
  const final = (await call('GET', `/v1/videos/${id}`)).body;
  assert.equal(final.status, 'cancelled');
  assert.ok(
    !final.stages.some((s: { name: string }) => s.name === 'captions'),
    'a stage ran after the cancel',
  );
});

test('the list is paginated newest first and filters by status', async () => {
  const all: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await call(
      'GET',
      `/v1/videos?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.ok(page.body.items.length <= 2);
    all.push(...page.body.items.map((v) => v.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  const expected = await pool.query(
    'SELECT id FROM videos WHERE api_key_id = $1 ORDER BY created_at DESC, id DESC',
    [keyId],
  );
  assert.deepEqual(
    all,
    expected.rows.map((r) => r.id),
  );

  const cancelled = await call('GET', '/v1/videos?status=cancelled&limit=100');
  assert.ok(cancelled.body.items.length >= 2);
  assert.ok(cancelled.body.items.every((v: { status: string }) => v.status === 'cancelled'));
});
