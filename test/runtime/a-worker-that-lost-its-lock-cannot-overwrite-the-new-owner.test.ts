/**
 * A worker that stops renewing its job lock in time (here: frozen with SIGSTOP, as a long GC pause,
 * a starved node or a network partition would) loses the job to another worker. When it wakes up
 * it is still in the middle of a stage. It must not overwrite the new owner: it works in its own
 * directory, its late writes to Postgres are refused (fenced by its job token), it notices the lost
 * lock and abandons the attempt, and it keeps running. Real Redis, Postgres and worker processes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { auditEntries } from '../../runtime/db/audit.js';
import {
  completeVideo,
  createVideo,
  failVideo,
  getStages,
  getVideo,
  requeueVideo,
  stageFinished,
  stageStarted,
  startAttempt,
  updateProgress,
} from '../../runtime/db/videos.js';
import { STANDARD_VIDEO } from '../../runtime/render/request.js';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import { QUEUE_NAME, createVideoQueue } from '../../runtime/queue/video-queue.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { ledgerEntries } from '../support/fixture-stages.js';
import { eventually, spawnFixtureWorker } from '../support/processes.js';

const LOCK_SECONDS = 1;
const environment = await useTestEnvironment({
  WORKER_LOCK_SECONDS: String(LOCK_SECONDS),
  JOB_ATTEMPTS: '2',
});
const api = await startTestApi(environment);
const { id: keyId, key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const pool = testPool(environment, 2);

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

test('a worker frozen past its lock wakes up mid-stage and cannot overwrite the worker that took over', async (t) => {
  const ledger = join(environment.dir, 'frozen.ledger');
  const publishDir = join(environment.dir, 'published');
  const env = { FIXTURE_LEDGER: ledger, FIXTURE_PUBLISH_DIR: publishDir };
  // The first worker's narration outlasts its freeze by far less than the second one's: without
  // fencing it would finish first and go on to publish and complete the video itself.
  const frozen = await spawnFixtureWorker(environment, {
    ...env,
    FIXTURE_NARRATION_MS: '2500',
    LOG_LEVEL: 'info',
  });
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'frozen worker' } })).body as {
    id: string;
  };
  const runsOf = async (pid: number | undefined, stage: string) =>
    (await ledgerEntries(ledger)).some((e) => e.videoId === id && e.stage === stage && e.pid === pid)
      ? true
      : undefined;
  await eventually(
    'the first worker in narration',
    () => runsOf(frozen.process.pid, 'narration'),
    30_000,
    20,
  );
  frozen.process.kill('SIGSTOP');
  t.after(() => frozen.process.kill('SIGCONT'));

  // Its lock expires; the second worker's stalled-job check takes the job over.
  const owner = await spawnFixtureWorker(environment, { ...env, FIXTURE_NARRATION_MS: '6000' });
  t.after(() => owner.stop());
  await eventually(
    'the second worker in narration',
    () => runsOf(owner.process.pid, 'narration'),
    30_000,
    20,
  );
  const takenOver = await getVideo(pool, id);
  assert.equal(takenOver?.status, 'running');

  frozen.process.kill('SIGCONT');
  const completed = await eventually('the video completed', async () => {
    const video = await getVideo(pool, id);
    return video?.status === 'completed' ? video : undefined;
  });

  // One publish and one completion, both by the second worker; the first ran nothing after waking.
  const runs = (await ledgerEntries(ledger))
    .filter((e) => e.videoId === id)
    .map((e) => [
      e.stage,
      e.pid === frozen.process.pid ? 'frozen' : e.pid === owner.process.pid ? 'owner' : '?',
    ]);
  assert.deepEqual(runs, [
    ['script', 'frozen'],
    ['narration', 'frozen'],
    ['narration', 'owner'],
    ['captions', 'owner'],
    ['publish', 'owner'],
  ]);
  assert.equal((await auditEntries(pool, { subject: id, action: 'video.completed' })).length, 1);
  assert.equal((await auditEntries(pool, { subject: id, action: 'video.failed' })).length, 0);
  assert.equal(completed.progress, 100);
  assert.equal(completed.outputUrl, `file://${join(publishDir, `${id}.txt`)}`);

  // What was published is the second attempt's work, whole: its narration, the reused script.
  const published = await readFile(join(publishDir, `${id}.txt`), 'utf8');
  assert.match(
    published,
    new RegExp(`^narrated by ${owner.process.pid}: Breathe in\\. frozen worker\\. Breathe out\\.\\n`),
  );
  assert.match(published, /WEBVTT/);

  // Consistent stage rows: all completed, the ones the second attempt ran carry its token (the
  // video's current attempt), the script it reused carries the first attempt's.
  const { rows } = await pool.query<{ token: string }>(
    'SELECT attempt_token AS token FROM videos WHERE id = $1',
    [id],
  );
  const ownerToken = rows[0]!.token;
  const stages = await getStages(pool, id);
  assert.deepEqual(
    stages.map((s) => [s.stage, s.status, s.attemptToken === ownerToken]),
    [
      ['script', 'completed', false],
      ['narration', 'completed', true],
      ['captions', 'completed', true],
      ['publish', 'completed', true],
    ],
  );
  // Both attempts had their own directory; the video's are all gone once it is final.
  await eventually('the work directories removed', async () =>
    (await exists(join(environment.env.WORK_DIR!, id))) ? undefined : true,
  );

  // It noticed: the attempt was abandoned, nothing recorded.
  await eventually('the first worker abandons its attempt', async () =>
    /attempt abandoned: another attempt owns the video now/.test(frozen.output()) ? true : undefined,
  );
  // The first worker did not crash, is healthy, takes jobs and stops cleanly.
  assert.equal(frozen.process.exitCode, null, frozen.output());
  const health = await fetch(`${frozen.output().match(/^ready (\S+)/m)![1]}/health`);
  assert.equal(health.status, 200);
  await owner.stop();
  const next = (await call('POST', '/v1/videos', { body: { topic: 'after waking up' } })).body as {
    id: string;
  };
  await eventually('the first worker completes a new video', async () =>
    (await getVideo(pool, next.id))?.status === 'completed' ? true : undefined,
  );
  frozen.process.kill('SIGTERM');
  assert.equal((await frozen.exited).code, 0, frozen.output());
});

test('a worker frozen past its lock that is handed the same job again runs it as a new attempt, alone', async (t) => {
  const ledger = join(environment.dir, 'again.ledger');
  const worker = await spawnFixtureWorker(environment, {
    FIXTURE_LEDGER: ledger,
    FIXTURE_PUBLISH_DIR: join(environment.dir, 'published-again'),
    FIXTURE_NARRATION_MS: '2500',
    WORKER_CONCURRENCY: '2',
    LOG_LEVEL: 'info',
  });
  t.after(() => worker.stop());
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'handed back' } })).body as {
    id: string;
  };
  const narrations = async () =>
    (await ledgerEntries(ledger)).filter((e) => e.videoId === id && e.stage === 'narration').length;
  await eventually(
    'narration started',
    async () => ((await narrations()) === 1 ? true : undefined),
    30_000,
    20,
  );
  worker.process.kill('SIGSTOP');
  t.after(() => worker.process.kill('SIGCONT'));

  // While it is frozen its lock expires, and BullMQ's stalled-job check (run here by a consumer
  // that takes no jobs) puts the job back in the queue; the only worker to take it is the frozen one.
  const connection = new Redis(environment.env.REDIS_URL!, { maxRetriesPerRequest: null });
  t.after(() => connection.disconnect());
  const queue = createVideoQueue(connection, environment.config().queue);
  t.after(() => queue.close());
  const checker = new Worker(QUEUE_NAME, async () => {}, {
    connection,
    prefix: environment.keyPrefix,
    autorun: false,
    stalledInterval: 200,
    maxStalledCount: 1,
  });
  await checker.startStalledCheckTimer();
  await eventually('the job back in the queue', async () =>
    (await queue.getJobState(id)) === 'waiting' ? true : undefined,
  );
  await checker.close();
  worker.process.kill('SIGCONT');

  const completed = await eventually('the video completed', async () => {
    const video = await getVideo(pool, id);
    return video?.status === 'completed' ? video : undefined;
  });
  // The stale attempt ran no stage after waking; the new one reused the script and ran the rest.
  assert.deepEqual(
    (await ledgerEntries(ledger)).filter((e) => e.videoId === id).map((e) => e.stage),
    ['script', 'narration', 'narration', 'captions', 'publish'],
  );
  assert.equal((await auditEntries(pool, { subject: id, action: 'video.completed' })).length, 1);
  assert.equal(completed.progress, 100);
  const { rows } = await pool.query<{ token: string }>(
    'SELECT attempt_token AS token FROM videos WHERE id = $1',
    [id],
  );
  assert.deepEqual(
    (await getStages(pool, id)).map((s) => [s.stage, s.status, s.attemptToken === rows[0]!.token]),
    [
      ['script', 'completed', false],
      ['narration', 'completed', true],
      ['captions', 'completed', true],
      ['publish', 'completed', true],
    ],
  );
  assert.match(worker.output(), /attempt abandoned: another attempt owns the video now/);
  await eventually('the work directories removed', async () =>
    (await exists(join(environment.env.WORK_DIR!, id))) ? undefined : true,
  );
  assert.equal(worker.process.exitCode, null, worker.output());
});

test('every write of an attempt that was taken over is refused; the new owner’s go through', async () => {
  const id = randomUUID();
  const spec: VideoSpec = { ...STANDARD_VIDEO, topic: 'fenced', seed: 'fenced' };
  await createVideo(pool, { id, apiKeyId: keyId, spec });
  const stale = 'worker-a:1';
  const current = 'worker-b:1';
  assert.ok(await startAttempt(pool, id, 1, stale));
  assert.equal(await stageStarted(pool, id, 'script', { number: 1, token: stale }), true);
  const done = { status: 'completed' as const, output: { file: 'script.txt' }, costUsd: 0.5, durationMs: 10 };
  assert.equal(await stageFinished(pool, id, 'script', stale, done), true);
  assert.equal(await stageStarted(pool, id, 'narration', { number: 1, token: stale }), true);

  // The job is taken over: same attempt number (a stalled job is not a failed attempt), new token.
  assert.ok(await startAttempt(pool, id, 1, current));
  assert.equal(await stageFinished(pool, id, 'narration', stale, done), false, 'late stage end');
  assert.equal(
    await stageStarted(pool, id, 'captions', { number: 1, token: stale }),
    false,
    'late stage start',
  );
  assert.equal(await updateProgress(pool, id, stale, 99, 9), false, 'late progress');
  assert.equal(await requeueVideo(pool, id, stale, { stage: 'narration', message: 'late' }), false);
  assert.equal(await failVideo(pool, id, { stage: 'narration', message: 'late' }, stale), false);
  const late = { outputUrl: 'stale', captionsUrl: null, costUsd: 9 };
  assert.equal(await completeVideo(pool, id, stale, late), false, 'late completion');

  // The new owner takes the stage row over; the stale attempt cannot finish it afterwards either.
  assert.equal(await stageStarted(pool, id, 'narration', { number: 1, token: current }), true);
  assert.equal(await stageFinished(pool, id, 'narration', stale, done), false);
  assert.equal(await updateProgress(pool, id, current, 50, 0.5), true);
  assert.equal(
    await stageFinished(pool, id, 'narration', current, { ...done, output: { file: 'n.txt' } }),
    true,
  );
  const result = { outputUrl: 'owner', captionsUrl: null, costUsd: 1 };
  assert.equal(await completeVideo(pool, id, current, result), true);

  const video = await getVideo(pool, id);
  assert.equal(video?.status, 'completed');
  assert.equal(video?.outputUrl, 'owner');
  assert.deepEqual(
    (await getStages(pool, id)).map((s) => [s.stage, s.status, s.attemptToken, s.output]),
    [
      ['script', 'completed', stale, { file: 'script.txt' }],
      ['narration', 'completed', current, { file: 'n.txt' }],
    ],
  );
  assert.equal((await auditEntries(pool, { subject: id, action: 'video.completed' })).length, 1);
  // Once final, nobody moves it: not even a failure without a token (the API, the reconciler).
  assert.equal(await failVideo(pool, id, { stage: null, message: 'too late' }), false);
});
