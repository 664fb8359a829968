/**
 * Postgres is the system of record: every video the API accepted completes even when Redis loses
 * the queue (a restart without persistence), when the process died between the database commit and
 * the queue add, and the row is recorded failed when BullMQ gave up on a job without the worker
 * recording it. All on a private Redis that is really killed and restarted empty.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createVideo } from '../../runtime/db/videos.js';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import { QUEUE_NAME, createVideoQueue, enqueueVideo } from '../../runtime/queue/video-queue.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { eventually, spawnFixtureWorker } from '../support/processes.js';
import { startPrivateRedis } from '../support/redis-server.js';

const redis = await startPrivateRedis();
const environment = await useTestEnvironment({
  REDIS_URL: redis.url,
  RECONCILE_INTERVAL_SECONDS: '1',
  JOB_ATTEMPTS: '2',
});
// After the environment's clean-up, which deletes the test's keys on this server.
after(() => redis.stop());
const api = await startTestApi(environment);
const { id: keyId, key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const pool = testPool(environment, 2);

const status = async (id: string): Promise<string> =>
  String((await call('GET', `/v1/videos/${id}`)).body.status);

test('videos accepted before Redis restarted empty, and one the API never enqueued, all complete', async (t) => {
  const accepted: string[] = [];
  for (let i = 0; i < 4; i++) {
    const response = await call('POST', '/v1/videos', { body: { topic: `before the restart ${i}` } });
    assert.equal(response.status, 202);
    accepted.push(response.body.id as string);
  }
  // A crash between the commit and the queue add leaves exactly this: a row and no job.
  const orphan = randomUUID();
  const { rows } = await pool.query<{ spec: VideoSpec }>('SELECT spec FROM videos WHERE id = $1', [
    accepted[0],
  ]);
  await createVideo(pool, {
    id: orphan,
    apiKeyId: keyId,
    spec: { ...rows[0]!.spec, topic: 'never enqueued' },
  });

  await redis.restartEmpty();
  const probe = new Redis(redis.url);
  t.after(() => probe.disconnect());
  assert.equal(await probe.dbsize(), 0, 'Redis came back with nothing');

  const worker = await spawnFixtureWorker(environment);
  t.after(() => worker.stop());
  for (const id of [...accepted, orphan]) {
    await eventually(`${id} completed`, async () => ((await status(id)) === 'completed' ? true : undefined));
  }
  const metrics = await (await fetch(`${worker.output().match(/ready (\S+)/)![1]}/metrics`)).text();
  assert.match(metrics, /^archibald_reconciler_actions_total\{action="requeued",reason="missing"\} 5$/m);
  assert.match(metrics, /^archibald_reconciler_runs_total\{outcome="ran"\} \d+$/m);
});

test('a job BullMQ failed without the worker recording it ends failed in Postgres, with its reason', async (t) => {
  const response = await call('POST', '/v1/videos', { body: { topic: 'given up on' } });
  const id = response.body.id as string;
  // Another consumer takes the job and fails it for good: the row is never told.
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  t.after(() => connection.disconnect());
  const rogue = new Worker(
    QUEUE_NAME,
    () => {
      throw new UnrecoverableError('disk full on a node nobody watched');
    },
    { connection, prefix: environment.keyPrefix, autorun: true },
  );
  const queue = createVideoQueue(connection, environment.config().queue);
  t.after(() => queue.close());
  await eventually('the job failed in BullMQ', async () =>
    (await queue.getJobState(id)) === 'failed' ? true : undefined,
  );
  await rogue.close();
  assert.equal(await status(id), 'queued', 'Postgres has not heard of it');

  const worker = await spawnFixtureWorker(environment);
  t.after(() => worker.stop());
  const failed = await eventually('the row is failed', async () => {
    const video = (await call('GET', `/v1/videos/${id}`)).body;
    return video.status === 'failed' ? video : undefined;
  });
  assert.match(String(failed.error?.message ?? failed.errorMessage ?? JSON.stringify(failed)), /disk full/);
  // Re-adding the id stays a no-op while BullMQ holds the failed job: it is never run twice.
  await enqueueVideo(queue, id);
  assert.equal(await queue.getJobState(id), 'failed');
});
