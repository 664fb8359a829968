import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { eventually, spawnFixtureWorker } from '../support/processes.js';
import { readEvents } from '../support/sse.js';
import type { SseEvent } from '../support/sse.js';

const environment = await useTestEnvironment();
// Videos that stay running for the whole test: narration takes 90 s.
await spawnFixtureWorker(environment, { FIXTURE_NARRATION_MS: '90000', WORKER_CONCURRENCY: '8' });
const api = await startTestApi(environment, { EVENT_STREAMS_PER_KEY_MAX: '250' });
const { key } = await createTestKey(environment, 'watcher');
const call = apiClient(api.url, key);
const stats = new pg.Pool({ connectionString: environment.database.url, max: 1 });
environment.defer(() => stats.end());

interface OpenStream {
  events: SseEvent[];
  abort: AbortController;
  done: Promise<SseEvent[] | Error>;
  failed?: string;
}

function openStream(baseUrl: string, apiKey: string, videoId: string): OpenStream {
  const abort = new AbortController();
  const events: SseEvent[] = [];
  const done = readEvents(
    new URL(`/v1/videos/${videoId}/events`, baseUrl).toString(),
    apiKey,
    abort.signal,
    (e) => events.push(e),
  ).catch((error: unknown) => {
    stream.failed = String(error);
    return error as Error;
  });
  const stream: OpenStream = { events, abort, done };
  return stream;
}

const progressOf = (s: OpenStream) =>
  s.events.filter((e) => e.event === 'progress').map((e) => (e.data as { progress: number }).progress);

/** Transactions committed in the test database so far, as Postgres itself counts them. */
async function commits(): Promise<number> {
  await stats.query('SELECT pg_stat_clear_snapshot()');
  const r = await stats.query<{ n: string }>(
    'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(r.rows[0]!.n);
}

/** Commits per second over `ms` (backends flush their counts to pg_stat at most once a second). */
async function commitRate(ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  const before = await commits();
  await new Promise((r) => setTimeout(r, ms));
  await new Promise((r) => setTimeout(r, 1500));
  const after = await commits();
  return ((after - before) * 1000) / (ms + 1500);
}

async function runningVideos(n: number, topic: string, client = call): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await client('POST', '/v1/videos', { body: { topic: `${topic} ${i}` } });
    assert.equal(created.status, 202);
    ids.push(created.body.id as string);
  }
  for (const id of ids)
    await eventually(`video ${id} narrating`, async () => {
      const r = await client('GET', `/v1/videos/${id}`);
      return r.body.status === 'running' && r.body.progress > 0 ? true : undefined;
    });
  return ids;
}

test('200 open streams get their progress from one subscriber: the database query rate does not grow with them', async (t) => {
  const ids = await runningVideos(4, 'watched by many');
  const few = ids.map((id) => openStream(api.url, key, id));
  await eventually('the few streams started', async () =>
    few.every((s) => s.events.length > 0) ? true : undefined,
  );
  const fewRate = await commitRate(5000);

  const many = [...few];
  for (let i = few.length; i < 200; i++) many.push(openStream(api.url, key, ids[i % ids.length]!));
  await eventually('200 streams started', async () =>
    many.every((s) => s.events.some((e) => e.event === 'progress')) ? true : undefined,
  ).catch(async (error: unknown) => {
    const waiting = many.filter((s) => !s.events.some((e) => e.event === 'progress'));
    t.diagnostic(waiting.map((s) => `#${many.indexOf(s)}: ${JSON.stringify(s.events)}`).join(' | '));
    const settled = await Promise.race([Promise.all(waiting.map((s) => s.done)), Promise.resolve('open')]);
    throw new Error(`${waiting.length} streams without progress (${String(settled)}): ${String(error)}`);
  });
  const startedAt = many.map((s) => progressOf(s).length);
  const manyRate = await commitRate(5000);

  t.diagnostic(`commits/s: ${fewRate.toFixed(1)} with 4 streams, ${manyRate.toFixed(1)} with 200`);
  // Every stream got progress while open, rising, and none ended (the videos are still running).
  many.forEach((s, i) => {
    const progress = progressOf(s);
    assert.ok(progress.length > startedAt[i]!, `stream ${i} got no progress: ${progress.join(',')}`);
    assert.ok(progress.at(-1)! > progress[0]!, `stream ${i} progress did not rise: ${progress.join(',')}`);
    assert.ok(!s.events.some((e) => e.event === 'end'), `stream ${i} ended`);
  });
  // The worker's own writes are the same in both windows; per-stream polling (2 reads a second
  // each) would add ~400 commits a second with 200 streams.
  assert.ok(
    manyRate <= fewRate * 1.5 + 5,
    `commits/s with 4 streams: ${fewRate.toFixed(1)}, with 200: ${manyRate.toFixed(1)}`,
  );

  for (const s of many) s.abort.abort();
  await Promise.all(many.map((s) => s.done));
  for (const id of ids) assert.equal((await call('DELETE', `/v1/videos/${id}`)).status, 200);
});

test('one key past EVENT_STREAMS_PER_KEY_MAX gets a 429 while another key still opens streams; a cancel ends them', async () => {
  const capped = await startTestApi(environment, { EVENT_STREAMS_PER_KEY_MAX: '3' });
  const a = await createTestKey(environment, 'greedy');
  const b = await createTestKey(environment, 'other');
  const callA = apiClient(capped.url, a.key);
  const callB = apiClient(capped.url, b.key);
  const [videoA] = await runningVideos(1, 'capped', callA);
  const [videoB] = await runningVideos(1, 'not capped', callB);

  const streamsA = [0, 1, 2].map(() => openStream(capped.url, a.key, videoA!));
  await eventually('3 streams open for key A', async () =>
    streamsA.every((s) => s.events.length > 0) ? true : undefined,
  );
  const refused = await callA('GET', `/v1/videos/${videoA}/events`);
  assert.equal(refused.status, 429);
  assert.match(refused.body.message, /EVENT_STREAMS_PER_KEY_MAX/);
  assert.match(refused.body.message, /at most 3/);

  const streamB = openStream(capped.url, b.key, videoB!);
  await eventually('key B stream open', async () => (streamB.events.length > 0 ? true : undefined));

  // A closed stream gives its place back.
  streamsA[0]!.abort.abort();
  await streamsA[0]!.done;
  const again = await eventually('key A may open a stream again', async () => {
    const s = openStream(capped.url, a.key, videoA!);
    const first = await Promise.race([
      s.done,
      eventually('first event', async () => (s.events.length > 0 ? s : undefined), 5000),
    ]);
    return first === s ? s : undefined;
  });

  // Cancelling the video ends its open streams with the final status (no worker event needed).
  assert.equal((await callA('DELETE', `/v1/videos/${videoA}`)).status, 200);
  const ended = await Promise.all([streamsA[1]!, streamsA[2]!, again].map((s) => s.done));
  for (const events of ended) {
    assert.ok(Array.isArray(events), String(events));
    assert.equal(events.at(-1)?.event, 'end');
    assert.equal((events.at(-1)!.data as { status: string }).status, 'cancelled');
  }
  streamB.abort.abort();
  await streamB.done;
  assert.equal((await callB('DELETE', `/v1/videos/${videoB}`)).status, 200);
});
