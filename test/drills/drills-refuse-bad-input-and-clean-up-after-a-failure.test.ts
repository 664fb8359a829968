/**
 * Bad input gives one clear line and a non-zero exit; a drill that fails part-way names the step
 * and leaves no process and no directory behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runDrillProcess } from './drill-process.js';

/** Pids of live processes whose environment carries DRILL_RUN_ID=<runId>. */
async function processesOf(runId: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`DRILL_RUN_ID=${runId}`)) pids.push(Number(entry));
  }
  return pids;
}

test('an unknown scenario is one line naming the known ones, exit 2', async () => {
  const exit = await runDrillProcess(['earthquake']);
  assert.equal(exit.code, 2);
  assert.deepEqual(exit.messages, [
    'drill: unknown scenario "earthquake" (known: pitr, failover, redis-loss, videos-lost, worker-loss, all)',
  ]);
  assert.equal(exit.stdout, '');
});

test('a missing PostgreSQL binary is one line naming it and how to fix it, exit 2', async () => {
  const exit = await runDrillProcess(['pitr'], { DRILL_PG_BIN: '/nonexistent/postgresql/bin' });
  assert.equal(exit.code, 2);
  assert.equal(exit.messages.length, 1, exit.stderr);
  assert.match(
    exit.messages[0]!,
    /^drill pitr: PostgreSQL binary not found: \/nonexistent\/postgresql\/bin\/initdb/,
  );
});

test('a port in use is one line naming the port, exit 2, nothing left behind', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const parent = await mkdtemp(join(tmpdir(), 'drill-test-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  const exit = await runDrillProcess(['redis-loss', '--base-port', String(port)], {
    DRILL_DIR_PARENT: parent,
  });
  assert.equal(exit.code, 2);
  assert.deepEqual(exit.messages, [
    `drill redis-loss: port ${port} on 127.0.0.1 is in use (from --base-port); choose another`,
  ]);
  assert.deepEqual(await readdir(parent), []);
});

test('a drill failing part-way names the step and leaves no process or directory behind', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'drill-test-'));
  t.after(() => rm(parent, { recursive: true, force: true }));
  await chmod(parent, 0o755); // PostgreSQL (run as postgres when the tests run as root) reaches into it
  const runId = `test-${randomBytes(6).toString('hex')}`;
  // By then the primary Postgres (and its WAL archiver) and Redis are running.
  const step = 'take the base backup (pg_basebackup)';
  const exit = await runDrillProcess(['pitr'], {
    DRILL_FAIL_AT: step,
    DRILL_RUN_ID: runId,
    DRILL_DIR_PARENT: parent,
  });
  assert.equal(exit.code, 1);
  assert.deepEqual(exit.messages, [`drill pitr failed at step "${step}": failed on purpose (DRILL_FAIL_AT)`]);
  assert.match(
    exit.stderr,
    /\[pitr\] start the primary with WAL archiving: done/,
    'it got as far as starting Postgres',
  );
  assert.deepEqual(await processesOf(runId), [], 'no process of the drill is left');
  assert.deepEqual(await readdir(parent), [], 'no directory of the drill is left');
});
