/**
 * pitr — operator error (a dropped table), recovered by point-in-time restore.
 *
 * The primary archives its WAL into a directory standing for the object store (archive_command,
 * archive_timeout) and a base backup is taken; `archibald serve` takes videos continuously; then
 * someone runs DROP TABLE videos. Following runbooks/dr/pitr.md: find the statement's time in the
 * Postgres log, wait until the archive holds WAL past it (RDS: LatestRestorableTime), restore the
 * base backup into a fresh data directory with recovery_target_time = that time truncated to the
 * second (what `aws rds restore-db-instance-to-point-in-time --restore-time` takes), point the
 * runtime at it and wait for /ready.
 *
 * Verified: the restored videos are exactly the rows committed at or before the target (commit
 * timestamps from track_commit_timestamp, read under the drop's own lock), every video the API
 * acknowledged before the target is there, and the restored runtime takes a new video.
 * RPO: the disaster time minus the earliest commit the restore gave up (0 when none).
 * RTO: from the start of the restore to /ready answering 200 on the restored database.
 */
import { writeFile, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  initCluster,
  appendSettings,
  postgresTools,
  runAsOwner,
  runPgTool,
  startPostgres,
} from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import { round, until } from '../support/run.js';
import type { DrillResult, DrillRun } from '../support/run.js';
import {
  client,
  createKey,
  drillVideo,
  runtimeEnv,
  startServe,
  startVideoWriter,
  untilReady,
} from '../support/runtime.js';

/** Seconds; bounds how far the archive can lag the primary (and so the wait before a restore). */
export const ARCHIVE_TIMEOUT_SECONDS = 2;
const WRITE_SECONDS = 5;

export async function pitrDrill(run: DrillRun): Promise<Omit<DrillResult, 'ranAt' | 'durationSeconds'>> {
  const tools = await run.step('check the PostgreSQL binaries', () => postgresTools());
  const [primaryPort, restoredPort, redisPort] = await run.step('reserve loopback ports', async () => [
    await run.port(),
    await run.port(),
    await run.port(),
  ]);

  const archive = await run.subdir('wal-archive', tools.owner);
  const primary = await run.step('start the primary with WAL archiving', async () => {
    const dataDir = await initCluster(run, tools, 'primary', {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: `test ! -f ${archive}/%f && cp %p ${archive}/%f`,
      archive_timeout: ARCHIVE_TIMEOUT_SECONDS,
      track_commit_timestamp: 'on',
      log_statement: 'ddl',
      log_line_prefix: '%m [%p] ',
      timezone: 'UTC',
      log_timezone: 'UTC',
    });
    const server = await startPostgres(run, tools, 'primary postgres', dataDir, primaryPort);
    await server.query('CREATE DATABASE archibald');
    return server;
  });
  const redis = await run.step('start Redis', () => startRedis(run, redisPort));
  const env = await runtimeEnv(run, primary.url('archibald'), redis.url);

  const backup = await run.subdir('base-backup', tools.owner);
  // The base backup predates the schema: the restore replays the migrations from the archive too.
  await run.step('take the base backup (pg_basebackup)', () =>
    runPgTool(run, tools, 'pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      backup,
      '-Fp',
      '-X',
      'stream',
      '--checkpoint=fast',
    ]),
  );

  // archibald serve applies the migrations when it starts (MIGRATE_ON_START, the default).
  const { api, key } = await run.step(
    'start the runtime (archibald serve) and create an API key',
    async () => {
      const started = await startServe(run, 'archibald serve (primary)', env);
      await untilReady(started);
      const created = await createKey(run, env.DATABASE_URL!);
      return { api: { ...started, call: client(started.url, created) }, key: created };
    },
  );

  const writer = startVideoWriter(run, api, 'pitr write', 20);
  const { acknowledged } = writer;

  await run.step(`write videos through the API for ${WRITE_SECONDS} s`, async () => {
    await delay(WRITE_SECONDS * 1000);
    if (acknowledged.length === 0)
      throw new Error(`the API acknowledged no video (${writer.refused} refused)`);
  });

  const disaster = await run.step('cause the disaster (DROP TABLE videos CASCADE)', async () => {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: primary.url('archibald') });
    await client.connect();
    try {
      await client.query('BEGIN');
      // Under the drop's own lock: no insert can commit between this read and the drop.
      await client.query('LOCK TABLE videos IN ACCESS EXCLUSIVE MODE');
      const rows = await client.query<{ id: string; committed: Date }>(
        'SELECT id, pg_xact_commit_timestamp(xmin) AS committed FROM videos',
      );
      await client.query('DROP TABLE videos CASCADE');
      await client.query('COMMIT');
      const wal = await client.query<{ file: string }>(
        'SELECT pg_walfile_name(pg_current_wal_lsn()) AS file',
      );
      return { rows: rows.rows, walFile: wal.rows[0]!.file, droppedAt: Date.now() };
    } finally {
      await client.end();
    }
  });
  await delay(500);
  await writer.stop();
  const acknowledgedBefore = acknowledged.length;

  // ---- The recovery, as runbooks/dr/pitr.md gives it. RTO runs from here. ----
  const restoreStarted = Date.now();
  const { target, dropLogged } = await run.step('find the disaster in the Postgres log', async () => {
    const match = primary.child
      .output()
      .match(/^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC \[\d+\] LOG:\s+statement: DROP TABLE videos/m);
    if (!match) throw new Error('no "statement: DROP TABLE videos" line in the primary\'s log');
    const logged = new Date(`${match[1]!.replace(' ', 'T')}Z`);
    // Whole seconds, as --restore-time takes them: the restore gives up what committed in that second.
    return { dropLogged: logged, target: new Date(Math.floor(logged.getTime() / 1000) * 1000) };
  });
  await run.step('wait until the archive holds the WAL past the disaster', () =>
    until(
      `the archiver to reach ${disaster.walFile}`,
      async () => {
        const { rows } = await primary.query<{ last: string | null }>(
          'SELECT last_archived_wal AS last FROM pg_stat_archiver',
        );
        return rows[0]?.last && rows[0].last >= disaster.walFile ? true : undefined;
      },
      (ARCHIVE_TIMEOUT_SECONDS + 30) * 1000,
    ),
  );
  const restoredDir = await run.subdir('restored', tools.owner);
  await run.step('restore the base backup into a fresh data directory', async () => {
    await runAsOwner(run, tools, 'cp base backup', 'cp', ['-a', `${backup}/.`, restoredDir]);
    await appendSettings(restoredDir, {
      restore_command: `cp ${archive}/%f %p`,
      recovery_target_time: target.toISOString().replace('T', ' ').replace('.000Z', '+00'),
      recovery_target_action: 'promote',
      // The restored instance is a new database; it must not archive over the old one's WAL.
      archive_mode: 'off',
    });
    const signal = join(restoredDir, 'recovery.signal');
    await writeFile(signal, '');
    if (tools.owner) await chown(signal, tools.owner.uid, tools.owner.gid);
  });
  const restored = await run.step('start PostgreSQL and replay the archive to the target', async () => {
    const server = await startPostgres(run, tools, 'restored postgres', restoredDir, restoredPort);
    await until('recovery to reach the target and promote', async () => {
      const { rows } = await server.query<{ recovering: boolean }>(
        'SELECT pg_is_in_recovery() AS recovering',
      );
      return rows[0]?.recovering === false ? true : undefined;
    });
    return server;
  });
  // The old API stops taking writes (in the platform: the deployment rolls onto the new secret).
  await run.step('stop the runtime on the damaged primary', () => api.child.stop());
  const restoredEnv = { ...env, DATABASE_URL: restored.url('archibald') };
  const restoredApi = await run.step(
    'point the runtime at the restored database and wait for /ready',
    async () => {
      const started = await startServe(run, 'archibald serve (restored)', restoredEnv, key);
      await untilReady(started);
      return started;
    },
  );
  const rtoSeconds = run.seconds(restoreStarted);

  return run.step('verify the restored rows', async () => {
    const { rows } = await restored.query<{ id: string }>('SELECT id FROM videos', [], 'archibald');
    const present = new Set(rows.map((r) => r.id));
    const expected = disaster.rows.filter((r) => r.committed.getTime() <= target.getTime());
    const givenUp = disaster.rows.filter((r) => r.committed.getTime() > target.getTime());
    const missing = expected.filter((r) => !present.has(r.id));
    const known = new Set(disaster.rows.map((r) => r.id));
    const after =
      givenUp.filter((r) => present.has(r.id)).length + [...present].filter((id) => !known.has(id)).length;
    const ackedBeforeTarget = acknowledged
      .slice(0, acknowledgedBefore)
      .filter((a) => a.at <= target.getTime());
    const ackedMissing = ackedBeforeTarget.filter((a) => !present.has(a.id));
    const fresh = await restoredApi.call<{ id: string }>(
      'POST',
      '/v1/videos',
      drillVideo('pitr after the restore'),
    );
    // The runbook's last step: the damaged database's audit log (not dropped) names the videos to
    // re-submit — those created from a minute before the target that the restored one lacks.
    const audit = await primary.query<{ subject: string }>(
      `SELECT subject FROM audit_log WHERE action = 'video.created' AND at > $1::timestamptz - interval '1 minute'`,
      [target.toISOString()],
      'archibald',
    );
    const toResubmit = new Set(audit.rows.map((r) => r.subject).filter((id) => !present.has(id)));
    const auditMatches = toResubmit.size === givenUp.length && givenUp.every((r) => toResubmit.has(r.id));
    const earliestGivenUp = Math.min(...givenUp.map((r) => r.committed.getTime()));
    const rpoSeconds = givenUp.length === 0 ? 0 : round((dropLogged.getTime() - earliestGivenUp) / 1000);
    const verified =
      missing.length === 0 &&
      after === 0 &&
      ackedMissing.length === 0 &&
      fresh.status === 202 &&
      auditMatches &&
      present.size > 0;
    if (!verified)
      throw new Error(
        `${missing.length} rows committed before the target missing, ${after} rows after it present, ` +
          `${ackedMissing.length} acknowledged videos missing, a new video answered ${fresh.status}, ` +
          `the damaged audit log names ${toResubmit.size} videos to re-submit for ${givenUp.length} given up`,
      );
    return {
      scenario: 'pitr',
      verified,
      rpoSeconds,
      rtoSeconds,
      acknowledgedLost: ackedMissing.length,
      detail: {
        lost:
          `${givenUp.length} of ${disaster.rows.length} committed videos, all committed after the restore target ` +
          `${target.toISOString()} (the DROP was logged at ${dropLogged.toISOString()}); none acknowledged before the target`,
        checked: [
          `${expected.length} videos committed at or before the target are all present, none after it`,
          `${ackedBeforeTarget.length} videos the API acknowledged before the target are all present`,
          'the restored runtime answered /ready 200 and accepted a new video (202)',
          `the damaged database's audit log names exactly the ${givenUp.length} videos given up (the runbook's list to re-submit)`,
        ],
        rpo: 'the DROP statement time minus the earliest commit the restore gave up (the target is the statement time cut to the second)',
        rto: 'from the start of the restore (finding the time in the log) to /ready 200 on the restored database, including waiting for the archive',
        archiveTimeoutSeconds: ARCHIVE_TIMEOUT_SECONDS,
        videosWritten: disaster.rows.length,
      },
    };
  });
}
