/**
 * A private PostgreSQL on a spare loopback port, from the real binaries (initdb, postgres,
 * pg_basebackup), in the drill's directory. Postgres refuses to run as root, so when the drill runs
 * as root its data directories belong to the `postgres` user and its binaries run as that user.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { access, appendFile, constants } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { spawnChild, runToEnd } from './children.js';
import type { Child } from './children.js';
import { DrillInputError, until } from './run.js';
import type { DrillRun } from './run.js';

export const DEFAULT_PG_BIN = '/usr/lib/postgresql/15/bin';

/** DRILL_PG_BIN, else the newest Debian PostgreSQL install (/usr/lib/postgresql/<major>/bin), else 15's. */
function binDirectory(): string {
  if (process.env.DRILL_PG_BIN) return process.env.DRILL_PG_BIN;
  const majors = (() => {
    try {
      return readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d));
    } catch {
      return [];
    }
  })()
    .map(Number)
    .sort((a, b) => b - a);
  const found = majors
    .map((m) => `/usr/lib/postgresql/${m}/bin`)
    .find((dir) => existsSync(join(dir, 'initdb')));
  return found ?? DEFAULT_PG_BIN;
}
const NEEDED = ['initdb', 'postgres', 'pg_basebackup'] as const;

export interface PgTools {
  bin: string;
  /** Who the binaries run as: undefined when not root. */
  owner?: { uid: number; gid: number };
}

/** Checks the binaries are there (DRILL_PG_BIN, default the newest Debian PostgreSQL directory). */
export async function postgresTools(): Promise<PgTools> {
  const bin = binDirectory();
  for (const name of NEEDED) {
    const path = join(bin, name);
    try {
      await access(path, constants.X_OK);
    } catch {
      throw new DrillInputError(
        `PostgreSQL binary not found: ${path} (install postgresql-15, or set DRILL_PG_BIN to the directory holding ${NEEDED.join(', ')})`,
      );
    }
  }
  if (process.getuid?.() !== 0) return { bin };
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  try {
    return { bin, owner: { uid: id('-u'), gid: id('-g') } };
  } catch {
    throw new DrillInputError('running as root needs a "postgres" user to run PostgreSQL as');
  }
}

function command(tools: PgTools, name: string, args: string[]): [string, string[]] {
  const binary = join(tools.bin, name);
  if (!tools.owner) return [binary, args];
  return [
    'setpriv',
    [`--reuid=${tools.owner.uid}`, `--regid=${tools.owner.gid}`, '--clear-groups', '--', binary, ...args],
  ];
}

export function runPgTool(run: DrillRun, tools: PgTools, name: string, args: string[]): Promise<string> {
  const [cmd, all] = command(tools, name, args);
  return runToEnd(run, name, cmd, all);
}

export interface PgServer {
  port: number;
  dataDir: string;
  url(database?: string): string;
  child: Child;
  /** Fast shutdown (SIGINT), SIGKILL after 10 s. */
  stop(): Promise<void>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<R>>;
}

/** initdb with 1 MB WAL segments (archive_timeout switches stay small), then the given settings. */
export async function initCluster(
  run: DrillRun,
  tools: PgTools,
  name: string,
  settings: Record<string, string | number>,
): Promise<string> {
  const dataDir = await run.subdir(name, tools.owner);
  await runPgTool(run, tools, 'initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-locale',
    '-E',
    'UTF8',
    '--wal-segsize=1',
    '--no-instructions',
    // A drill's cluster is thrown away: no need to fsync initdb's files (the server itself does fsync).
    '--no-sync',
  ]);
  await appendSettings(dataDir, settings);
  return dataDir;
}

export async function appendSettings(
  dataDir: string,
  settings: Record<string, string | number>,
): Promise<void> {
  const lines = Object.entries(settings).map(
    ([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replaceAll("'", "''")}'`}`,
  );
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# archibald drill\n${lines.join('\n')}\n`);
}

/** Starts `postgres -D dataDir` on a loopback port (no Unix socket) and waits until it takes queries. */
export async function startPostgres(
  run: DrillRun,
  tools: PgTools,
  name: string,
  dataDir: string,
  port: number,
  readyTimeoutMs = 120_000,
): Promise<PgServer> {
  const [cmd, args] = command(tools, 'postgres', [
    '-D',
    dataDir,
    '-c',
    `port=${port}`,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
  ]);
  const child = spawnChild(run, name, cmd, args);
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const query = async <R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ) => {
    const client = new pg.Client({ connectionString: url(database) });
    client.on('error', () => {});
    await client.connect();
    try {
      return await client.query<R>(sql, params);
    } finally {
      await client.end().catch(() => {});
    }
  };
  const server: PgServer = {
    port,
    dataDir,
    url,
    child,
    query,
    async stop() {
      await child.stop('SIGINT', 10_000);
    },
  };
  run.defer(`stop ${name}`, () => server.stop());
  await until(
    `${name} to accept connections on 127.0.0.1:${port}`,
    async () => {
      if (!child.running())
        throw new Error(`${name} exited: ${child.output().trim().split('\n').slice(-5).join(' | ')}`);
      await query('SELECT 1');
      return true;
    },
    readyTimeoutMs,
    100,
  ).catch((error: unknown) => {
    // A postgres that exited names its own reason (a port in use, a bad setting, recovery failing).
    if (!child.running())
      throw new Error(`${name} did not start: ${child.output().trim().split('\n').slice(-5).join(' | ')}`);
    throw error;
  });
  return server;
}

/** Runs any command as the cluster's owner (cp of a base backup, say). */
export function runAsOwner(
  run: DrillRun,
  tools: PgTools,
  name: string,
  cmd: string,
  args: string[],
): Promise<string> {
  if (!tools.owner) return runToEnd(run, name, cmd, args);
  return runToEnd(run, name, 'setpriv', [
    `--reuid=${tools.owner.uid}`,
    `--regid=${tools.owner.gid}`,
    '--clear-groups',
    '--',
    cmd,
    ...args,
  ]);
}

/** A private cluster for the runtime (no archiving), database `archibald` created. */
export async function startRuntimeDatabase(run: DrillRun, tools: PgTools, port: number): Promise<PgServer> {
  const dataDir = await initCluster(run, tools, 'pgdata', { timezone: 'UTC', log_timezone: 'UTC' });
  const server = await startPostgres(run, tools, 'postgres', dataDir, port);
  await server.query('CREATE DATABASE archibald');
  return server;
}
