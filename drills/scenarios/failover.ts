/**
 * failover — the primary is lost (kill -9 of the postmaster and every backend, as a host or AZ
 * failure), and the synchronous standby is promoted, the way RDS Multi-AZ behaves.
 *
 * The primary streams to a synchronous standby (pg_basebackup -R, synchronous_standby_names: a
 * commit returns only once the standby has flushed it, RDS Multi-AZ's guarantee) and to an
 * asynchronous read replica. `archibald serve` reaches Postgres through an endpoint standing for
 * the RDS endpoint's DNS name (drills/support/endpoint.ts) and takes videos continuously. The
 * primary is SIGKILLed mid-stream. Following runbooks/dr/failover.md, what RDS does by itself:
 * the loss is detected (the endpoint refuses connections), the standby is promoted
 * (`pg_ctl promote`) and the endpoint moved to it; what the runbook has the operator do: nothing
 * to the runtime unless /ready stays red (its pools reconnect to the same DATABASE_URL), then
 * verify.
 *
 * Verified: every video the API acknowledged (202) is on the promoted database, row by row (id,
 * created_at and topic as the API returned them), and the runtime on it takes a new video.
 * RPO: 0 by construction of synchronous commit, checked: acknowledged videos lost. RTO: from the
 * kill to /ready answering 200 through the moved endpoint.
 * Also measured: how far the asynchronous replica was behind when the primary died (WAL bytes and
 * the commits it lacked): the RPO a promotion of a read replica instead would have had.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { appendSettings, initCluster, postgresTools, runPgTool, startPostgres } from '../support/postgres.js';
import type { PgServer, PgTools } from '../support/postgres.js';
import { startRedis } from '../support/redis.js';
import { startEndpoint } from '../support/endpoint.js';
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

const WRITE_SECONDS = 4;

async function follower(
  run: DrillRun,
  tools: PgTools,
  primary: PgServer,
  name: string,
  port: number,
): Promise<PgServer> {
  const dir = await run.subdir(name, tools.owner);
  // -R writes standby.signal and primary_conninfo: the new server streams from the primary.
  await runPgTool(run, tools, 'pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    dir,
    '-Fp',
    '-X',
    'stream',
    '-R',
    '--checkpoint=fast',
  ]);
  // cluster_name is the application_name its WAL receiver gives the primary.
  await appendSettings(dir, { cluster_name: name });
  return startPostgres(run, tools, `${name} postgres`, dir, port);
}

export async function failoverDrill(run: DrillRun): Promise<Omit<DrillResult, 'ranAt' | 'durationSeconds'>> {
  const tools = await run.step('check the PostgreSQL binaries', () => postgresTools());
  const [primaryPort, standbyPort, replicaPort, endpointPort, redisPort] = await run.step(
    'reserve loopback ports',
    async () => [await run.port(), await run.port(), await run.port(), await run.port(), await run.port()],
  );

  const primary = await run.step('start the primary', async () => {
    const dataDir = await initCluster(run, tools, 'primary', {
      wal_level: 'replica',
      synchronous_commit: 'on',
      track_commit_timestamp: 'on',
      timezone: 'UTC',
      log_timezone: 'UTC',
    });
    const server = await startPostgres(run, tools, 'primary postgres', dataDir, primaryPort);
    await server.query('CREATE DATABASE archibald');
    return server;
  });
  const standby = await run.step('start the standby (pg_basebackup -R)', () =>
    follower(run, tools, primary, 'standby', standbyPort),
  );
  const replica = await run.step('start the asynchronous read replica (pg_basebackup -R)', () =>
    follower(run, tools, primary, 'replica', replicaPort),
  );
  // Only now (a commit would wait for a standby that is not there yet). The followers' copies of
  // the configuration predate it: once promoted, the standby commits alone until a new standby
  // exists, as RDS's new primary does while it rebuilds the standby in the background.
  await run.step('make the standby synchronous and check the replica is asynchronous', async () => {
    await primary.query("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby)'");
    await primary.query('SELECT pg_reload_conf()');
    await until('pg_stat_replication to show standby sync and replica async', async () => {
      const { rows } = await primary.query<{ application_name: string; sync_state: string }>(
        "SELECT application_name, sync_state FROM pg_stat_replication WHERE state = 'streaming'",
      );
      const state = Object.fromEntries(rows.map((r) => [r.application_name, r.sync_state]));
      return state.standby === 'sync' && state.replica === 'async' ? true : undefined;
    });
  });
  const endpoint = await run.step('open the database endpoint (the RDS endpoint) on the primary', () =>
    startEndpoint(run, endpointPort, primaryPort),
  );
  const redis = await run.step('start Redis', () => startRedis(run, redisPort));
  // Default limits: a request whose key lookup failed while Postgres was down gives its
  // per-address count back, so the writer is not refused (429) after the failover.
  const env = await runtimeEnv(run, endpoint.url('archibald'), redis.url);

  const api = await run.step('start the runtime (archibald serve) and create an API key', async () => {
    const started = await startServe(run, 'archibald serve', env);
    await untilReady(started);
    return { ...started, call: client(started.url, await createKey(run, env.DATABASE_URL!)) };
  });

  const writer = startVideoWriter(run, api, 'failover write', 10);
  const { acknowledged } = writer;

  await run.step(`write videos through the API for ${WRITE_SECONDS} s`, async () => {
    await delay(WRITE_SECONDS * 1000);
    if (acknowledged.length === 0)
      throw new Error(`the API acknowledged no video (${writer.refused} refused)`);
  });

  // ---- The disaster: the writer keeps going. RTO runs from here. ----
  const acknowledgedBeforeKill = acknowledged.length;
  const killedAt = Date.now();
  await run.step('kill -9 the primary mid-stream (postmaster and every backend)', () => primary.child.kill());

  // What RDS does by itself: detect the loss, promote the standby, move the endpoint.
  await run.step('detect the loss (the endpoint refuses connections)', () =>
    until(
      'a connection through the endpoint to fail',
      async () => {
        try {
          const pg = await import('pg');
          const c = new pg.default.Client({
            connectionString: endpoint.url(),
            connectionTimeoutMillis: 1000,
          });
          c.on('error', () => {});
          await c.connect();
          await c.end();
          return undefined;
        } catch {
          return true;
        }
      },
      10_000,
      50,
    ),
  );
  // The replica stopped where the primary's WAL stream stopped: measure its lag before anything moves.
  const lag = await run.step('measure how far the read replica was behind', async () => {
    const s = await standby.query<{ lsn: string }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
    const r = await replica.query<{ lsn: string; at: Date | null }>(
      'SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_last_xact_replay_timestamp() AS at',
    );
    const bytes = await standby.query<{ bytes: string }>('SELECT pg_wal_lsn_diff($1, $2)::text AS bytes', [
      s.rows[0]!.lsn,
      r.rows[0]!.lsn,
    ]);
    const ids = await replica.query<{ id: string }>('SELECT id FROM videos', [], 'archibald');
    return {
      standbyLsn: s.rows[0]!.lsn,
      replicaLsn: r.rows[0]!.lsn,
      replicaLastReplayed: r.rows[0]!.at,
      bytesBehind: Math.max(0, Number(bytes.rows[0]!.bytes)),
      replicaIds: new Set(ids.rows.map((row) => row.id)),
    };
  });
  await run.step('promote the synchronous standby (pg_ctl promote)', async () => {
    await runPgTool(run, tools, 'pg_ctl', ['promote', '-w', '-t', '60', '-D', standby.dataDir]);
    const { rows } = await standby.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
    if (rows[0]?.recovering !== false) throw new Error('the standby is still in recovery');
  });
  await run.step('move the endpoint to the promoted standby (the DNS switch)', async () => {
    endpoint.moveTo(standby.port);
  });
  // What the runbook has the operator do: wait for /ready on the same DATABASE_URL.
  await run.step('wait for /ready 200 through the moved endpoint (no restart)', () => untilReady(api));
  const rtoSeconds = run.seconds(killedAt);
  await delay(500);
  await writer.stop();

  return run.step('verify every acknowledged video row by row on the promoted database', async () => {
    const { rows } = await standby.query<{
      id: string;
      created_at: Date;
      topic: string;
      committed: Date | null;
    }>(
      "SELECT id, created_at, spec->>'topic' AS topic, pg_xact_commit_timestamp(xmin) AS committed FROM videos",
      [],
      'archibald',
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const problems: string[] = [];
    let lost = 0;
    for (const a of acknowledged) {
      const row = byId.get(a.id);
      if (!row) {
        lost++;
        problems.push(`acknowledged video ${a.id} is missing`);
      } else if (row.created_at.toISOString() !== a.createdAt || row.topic !== a.topic)
        problems.push(
          `video ${a.id} differs: API said ${a.createdAt} "${a.topic}", database has ${row.created_at.toISOString()} "${row.topic}"`,
        );
    }
    // The promoted runtime takes a new video (a write on the new primary).
    const after = await api.call<{ id: string }>('POST', '/v1/videos', drillVideo('failover after'));
    if (after.status !== 202) problems.push(`a new video after the failover answered ${after.status}`);
    if (problems.length) throw new Error(problems.slice(0, 10).join('; '));

    // The replica-only promotion: the commits the replica lacked, and the oldest one's age at the kill.
    const replicaMissing = rows.filter(
      (r) => !lag.replicaIds.has(r.id) && r.committed && r.committed.getTime() <= killedAt,
    );
    const oldestMissing = Math.min(...replicaMissing.map((r) => r.committed!.getTime()));
    const replicaRpoSeconds = replicaMissing.length ? round((killedAt - oldestMissing) / 1000) : 0;
    const acknowledgedAtKill = acknowledged.filter((a) => a.at <= killedAt);
    const replicaLostAcknowledged = acknowledgedAtKill.filter((a) => !lag.replicaIds.has(a.id)).length;
    const committedBeforeKill = rows.filter((r) => r.committed && r.committed.getTime() <= killedAt).length;
    return {
      scenario: 'failover',
      verified: true,
      rpoSeconds: 0,
      rtoSeconds,
      acknowledgedLost: lost,
      detail: {
        lost:
          `nothing acknowledged: all ${acknowledged.length} videos the API acknowledged ` +
          `(${acknowledgedBeforeKill} before the kill) are on the promoted standby; ` +
          `${writer.refused} requests failed during the failover and were never acknowledged`,
        checked: [
          `${acknowledged.length} acknowledged videos are all on the promoted standby, row by row (id, created_at and topic as the API returned them)`,
          `the standby was synchronous (pg_stat_replication sync_state 'sync') and the replica asynchronous before the kill`,
          `the same archibald serve, with the same DATABASE_URL, answered /ready 200 through the moved endpoint and accepted a new video (202)`,
        ],
        rpo: 'acknowledged videos lost with a synchronous standby (0 by synchronous commit, checked row by row)',
        rto: 'from the kill -9 of the primary to /ready 200 through the moved endpoint: detection, pg_ctl promote, the endpoint move and the pools reconnecting',
        replica: {
          rpoSeconds: replicaRpoSeconds,
          bytesBehind: lag.bytesBehind,
          standbyReplayLsn: lag.standbyLsn,
          replicaReplayLsn: lag.replicaLsn,
          replicaLastReplayedCommit: lag.replicaLastReplayed?.toISOString() ?? null,
          commitsMissing: replicaMissing.length,
          acknowledgedMissing: replicaLostAcknowledged,
          committedBeforeKill,
          meaning:
            'what promoting the asynchronous read replica instead would have given up: the kill time minus the oldest commit the replica lacked (0 when it had replayed everything)',
        },
      },
    };
  });
}
