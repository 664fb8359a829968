import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { auditEntries } from '../../runtime/db/audit.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { ledgerEntries } from '../support/fixture-stages.js';
import { eventually, spawnFixtureWorker } from '../support/processes.js';

const environment = await useTestEnvironment({ WORKER_LOCK_SECONDS: '2', JOB_ATTEMPTS: '3' });
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const pool = testPool(environment, 2);

const video = async (id: string) => (await call('GET', `/v1/videos/${id}`)).body;
const until = (id: string, what: string, ok: (v: Record<string, unknown>) => boolean, timeoutMs = 60_000) =>
  eventually(
    `${id} ${what}`,
    async () => {
      const v = await video(id);
      return ok(v) ? v : undefined;
    },
    timeoutMs,
  );

test('a worker killed with SIGKILL mid-job: another worker completes it, with one completion recorded', async (t) => {
  const ledger = join(environment.dir, 'kill.ledger');
  const env = { FIXTURE_LEDGER: ledger, FIXTURE_NARRATION_MS: '1500' };
  const doomed = await spawnFixtureWorker(environment, { ...env, FIXTURE_NARRATION_MS: '60000' });
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'crash test' } })).body;
  await until(id, 'in narration', (v) => v.stage === 'narration');
  doomed.process.kill('SIGKILL');
  await doomed.exited;

  const rescuer = await spawnFixtureWorker(environment, env);
  t.after(() => rescuer.stop());
  const done = await until(id, 'completed', (v) => v.status === 'completed');
  assert.equal(done.progress, 100);

  const runs = (await ledgerEntries(ledger)).filter((e) => e.videoId === id);
  // The script stage's output survived the crash and was reused; narration ran again elsewhere.
  assert.deepEqual(
    runs.map((r) => [
      r.stage,
      r.pid === doomed.process.pid ? 'doomed' : r.pid === rescuer.process.pid ? 'rescuer' : '?',
    ]),
    [
      ['script', 'doomed'],
      ['narration', 'doomed'],
      ['narration', 'rescuer'],
      ['captions', 'rescuer'],
    ],
  );
  assert.equal((await auditEntries(pool, { subject: id, action: 'video.completed' })).length, 1);
  const metrics = await (await fetch(`${rescuer.output().match(/ready (\S+)/)![1]}/metrics`)).text();
  assert.match(metrics, /^archibald_jobs_stalled_total 1$/m);
});

test('a job whose worker dies twice is failed, not left running forever', async () => {
  const ledger = join(environment.dir, 'twice.ledger');
  const env = { FIXTURE_LEDGER: ledger, FIXTURE_NARRATION_MS: '60000' };
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'crashes twice' } })).body;
  // Each worker dies in narration; the next one recovers the stalled job (maxStalledCount is 1).
  for (let crash = 1; crash <= 2; crash++) {
    const doomed = await spawnFixtureWorker(environment, env);
    await eventually(`narration in crash #${crash}`, async () =>
      (await ledgerEntries(ledger)).some(
        (e) => e.videoId === id && e.stage === 'narration' && e.pid === doomed.process.pid,
      )
        ? true
        : undefined,
    );
    doomed.process.kill('SIGKILL');
    await doomed.exited;
  }
  const last = await spawnFixtureWorker(environment, env);
  try {
    const failed = await until(id, 'failed', (v) => v.status === 'failed');
    assert.deepEqual(failed.error, { stage: null, message: 'job stalled more than allowable limit' });
    assert.equal((await auditEntries(pool, { subject: id, action: 'video.failed' })).length, 1);
    // The third worker never ran a stage of it: BullMQ failed the job on pickup.
    const runs = (await ledgerEntries(ledger)).filter((e) => e.videoId === id);
    assert.equal(runs.filter((r) => r.pid === last.process.pid).length, 0);
  } finally {
    await last.stop();
  }
});

test('a failing stage is retried with backoff, completed stages are not redone', async (t) => {
  const ledger = join(environment.dir, 'retry.ledger');
  const worker = await spawnFixtureWorker(environment, {
    FIXTURE_LEDGER: ledger,
    FIXTURE_NARRATION_MS: '50',
    FIXTURE_FAIL_STAGE: 'captions',
    FIXTURE_FAIL_TIMES: '1',
  });
  t.after(() => worker.stop());
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'flaky captions' } })).body;
  const done = await until(id, 'completed', (v) => v.status === 'completed');
  assert.equal(done.attempts, 2);
  assert.equal(done.error, null);
  const runs = (await ledgerEntries(ledger)).filter((e) => e.videoId === id).map((e) => e.stage);
  assert.deepEqual(runs, ['script', 'narration', 'captions', 'captions']);
});

test('a stage failing every attempt fails the video, naming the stage and its error', async (t) => {
  const ledger = join(environment.dir, 'fail.ledger');
  const worker = await spawnFixtureWorker(environment, {
    FIXTURE_LEDGER: ledger,
    FIXTURE_NARRATION_MS: '50',
    FIXTURE_FAIL_STAGE: 'narration',
    FIXTURE_FAIL_TIMES: '99',
  });
  t.after(() => worker.stop());
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'doomed narration' } })).body;
  const failed = await until(id, 'failed', (v) => v.status === 'failed');
  // JOB_ATTEMPTS (3 here) is set on the job when the API queues it.
  assert.deepEqual(failed.error, { stage: 'narration', message: 'fixture narration failure #3' });
  assert.equal(failed.attempts, 3);
  const narration = (failed.stages as Array<{ name: string; status: string; attempt: number }>).find(
    (s) => s.name === 'narration',
  );
  assert.equal(narration?.status, 'failed');
  assert.equal(narration?.attempt, 3);
  assert.equal((await auditEntries(pool, { subject: id, action: 'video.failed' })).length, 1);
});

test('SIGTERM: the worker stops taking jobs and releases a job still running after the grace period', async (t) => {
  const ledger = join(environment.dir, 'term.ledger');
  const env = { FIXTURE_LEDGER: ledger, WORKER_SHUTDOWN_GRACE_SECONDS: '1' };
  const leaving = await spawnFixtureWorker(environment, { ...env, FIXTURE_NARRATION_MS: '60000' });
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'shutdown test' } })).body;
  await until(id, 'in narration', (v) => v.stage === 'narration');
  leaving.process.kill('SIGTERM');
  const exit = await leaving.exited;
  assert.equal(exit.code, 0, leaving.output());
  // Released, not failed: back in the queue with its attempt not used up.
  const released = await video(id);
  assert.equal(released.status, 'queued');

  const next = await spawnFixtureWorker(environment, { ...env, FIXTURE_NARRATION_MS: '50' });
  t.after(() => next.stop());
  const done = await until(id, 'completed', (v) => v.status === 'completed');
  assert.equal(done.attempts, 1);
  const runs = (await ledgerEntries(ledger)).filter((e) => e.videoId === id).map((e) => e.stage);
  assert.deepEqual(runs, ['script', 'narration', 'narration', 'captions']);
});

test('SIGTERM: a job that finishes within the grace period completes before the worker exits', async () => {
  const ledger = join(environment.dir, 'grace.ledger');
  const worker = await spawnFixtureWorker(environment, {
    FIXTURE_LEDGER: ledger,
    FIXTURE_NARRATION_MS: '1500',
    WORKER_SHUTDOWN_GRACE_SECONDS: '30',
  });
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'graceful' } })).body;
  await until(id, 'in narration', (v) => v.stage === 'narration');
  worker.process.kill('SIGTERM');
  assert.equal((await worker.exited).code, 0, worker.output());
  assert.equal((await video(id)).status, 'completed');
});

test('a job running past JOB_TIMEOUT_SECONDS is aborted and fails without retrying', async (t) => {
  const ledger = join(environment.dir, 'timeout.ledger');
  const worker = await spawnFixtureWorker(environment, {
    FIXTURE_LEDGER: ledger,
    FIXTURE_NARRATION_MS: '60000',
    JOB_TIMEOUT_SECONDS: '1',
  });
  t.after(() => worker.stop());
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'too slow' } })).body;
  const failed = await until(id, 'failed', (v) => v.status === 'failed');
  assert.deepEqual(failed.error, { stage: 'narration', message: 'timed out after 1 s' });
  assert.equal(failed.attempts, 1);
  const runs = (await ledgerEntries(ledger)).filter((e) => e.videoId === id).map((e) => e.stage);
  assert.deepEqual(runs, ['script', 'narration']);
});
