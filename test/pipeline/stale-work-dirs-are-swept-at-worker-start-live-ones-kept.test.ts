import assert from 'node:assert/strict';
import { access, mkdir, utimes, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { fixtureStages } from '../support/fixture-stages.js';
import { eventually, spawnFixtureWorker } from '../support/processes.js';
import { startTestWorker } from '../support/worker.js';

// A long lock: the killed worker's job is not recovered (and its directory not re-made) meanwhile.
const environment = await useTestEnvironment({ WORKER_LOCK_SECONDS: '600', JOB_TIMEOUT_SECONDS: '900' });
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const workDir = environment.env.WORK_DIR as string;
const ledger = join(environment.dir, 'sweep.ledger');
const slow = { FIXTURE_LEDGER: ledger, FIXTURE_NARRATION_MS: '120000' };

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function inNarration(): Promise<string> {
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'disk sweep' } })).body as { id: string };
  await eventually(`${id} in narration`, async () =>
    ((await call('GET', `/v1/videos/${id}`)).body as { stage?: string }).stage === 'narration'
      ? true
      : undefined,
  );
  return id;
}

test('a worker starting sweeps the work directories nothing uses and keeps those a job may use', async (t) => {
  // A worker killed mid-job leaves its directory behind; the video is then cancelled: garbage.
  const killed = await spawnFixtureWorker(environment, slow);
  const orphaned = await inNarration();
  killed.process.kill('SIGKILL');
  await killed.exited;
  assert.equal(await exists(join(workDir, orphaned)), true);
  assert.equal((await call('DELETE', `/v1/videos/${orphaned}`)).status, 200);

  // Another killed mid-job, its video still running: the job comes back when its lock expires and
  // a worker here resumes it from that directory.
  const killedToo = await spawnFixtureWorker(environment, slow);
  const resumable = await inNarration();
  killedToo.process.kill('SIGKILL');
  await killedToo.exited;

  // Another worker on the same machine and WORK_DIR is in the middle of a job.
  const alive = await spawnFixtureWorker(environment, slow);
  t.after(() => alive.stop(1000));
  const running = await inNarration();

  // A container restarted on the same emptyDir gets the same pid again: the owner recorded the old
  // process's start time, so the new process with that pid is not taken for it.
  const reusedPid = join(workDir, randomUUID());
  await mkdir(reusedPid);
  await writeFile(
    join(reusedPid, '.owner'),
    JSON.stringify({ pid: process.pid, host: hostname(), started: '1' }),
  );

  // Without an owner (an older worker's): kept while recent, swept once older than a job can run.
  const old = join(workDir, 'unowned-old');
  const recent = join(workDir, 'unowned-recent');
  for (const dir of [old, recent]) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'narration.wav'), 'x');
  }
  const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
  await utimes(join(old, 'narration.wav'), twoHoursAgo, twoHoursAgo);
  await utimes(old, twoHoursAgo, twoHoursAgo);

  // Its captions stage fails once, for the next test.
  await startTestWorker(environment, fixtureStages({ ledger, failStage: 'captions', failTimes: 1 }));

  assert.equal(await exists(join(workDir, orphaned)), false, 'a dead worker’s cancelled job’s is swept');
  assert.equal(await exists(join(workDir, resumable)), true, 'a dead worker’s resumable job’s is kept');
  assert.equal(await exists(reusedPid), false, 'an owner whose pid was reused is dead');
  assert.equal(await exists(old), false, 'an unowned directory older than the job timeout is swept');
  assert.equal(await exists(join(workDir, running)), true, 'the live worker’s directory is kept');
  assert.equal(await exists(recent), true, 'a recent unowned directory is kept');
});

test('a video cancelled while its retry waits out the backoff leaves no work directory', async () => {
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'cancel in backoff' } })).body as {
    id: string;
  };
  // The first attempt failed in captions and kept its directory for the retry (2 s away).
  await eventually(
    `${id} waiting to retry`,
    async () => {
      const v = (await call('GET', `/v1/videos/${id}`)).body as { status: string; attempts: number };
      return v.status === 'queued' && v.attempts === 1 ? true : undefined;
    },
    30_000,
    20,
  );
  assert.equal(await exists(join(workDir, id)), true);
  assert.equal((await call('DELETE', `/v1/videos/${id}`)).status, 200);
  await eventually(`${id}'s directory removed`, async () =>
    (await exists(join(workDir, id))) ? undefined : true,
  );
  assert.equal(((await call('GET', `/v1/videos/${id}`)).body as { status: string }).status, 'cancelled');
});
