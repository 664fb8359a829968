/**
 * Forward-only migrations: numbered SQL files in ./migrations, each applied once in its own
 * transaction and recorded in schema_migrations. A session advisory lock serialises concurrent
 * runners (several replicas starting at once), and a database that is ahead of this build is refused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { rollback } from './transaction.js';
import type { Logger } from 'pino';

// Arbitrary constant shared by every Archibald process: the advisory lock key for migrations.
const MIGRATION_LOCK_KEY = 74_210_551;
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration file ${file} must be named <number>_<name>.sql`);
      return { version: Number(match[1]), name: match[2]!, sql: readFileSync(`${dir}/${file}`, 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version)
      throw new Error(`two migrations numbered ${m.version}`);
  });
  return migrations;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;

async function appliedVersions(client: pg.PoolClient | pg.Pool): Promise<Set<number>> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations') AS t`);
  if (!exists.rows[0]?.t) return new Set();
  const rows = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
  return new Set(rows.rows.map((r) => r.version));
}

function checkNotAhead(applied: Set<number>, known: Migration[]): void {
  const knownVersions = new Set(known.map((m) => m.version));
  const unknown = [...applied].filter((v) => !knownVersions.has(v)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    throw new Error(
      `the database has migrations this build does not know (${unknown.join(', ')}); ` +
        'migrations are forward-only: deploy a build that includes them',
    );
  }
}

/** Applies every pending migration; returns the names applied. Safe to run from many processes at once. */
export async function migrate(pool: pg.Pool, log?: Logger, migrations = loadMigrations()): Promise<string[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // Unheard, a dying connection's 'error' event would crash the process mid-migration.
  client.on('error', (error) => {
    broken ??= error;
  });
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_TABLE);
      const applied = await appliedVersions(client);
      checkNotAhead(applied, migrations);
      const done: string[] = [];
      for (const m of migrations.filter((x) => !applied.has(x.version))) {
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          broken = await rollback(client);
          throw new Error(`migration ${m.version}_${m.name} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        done.push(`${m.version}_${m.name}`);
        log?.info({ migration: `${m.version}_${m.name}` }, 'migration applied');
      }
      return done;
    } finally {
      // A dead connection has lost its session lock with it; unlocking it would only hide the cause.
      if (!broken) await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release(broken);
  }
}

/** Migrations not yet applied (for /ready). Throws when the database is ahead of this build. */
export async function pendingMigrations(pool: pg.Pool, migrations = loadMigrations()): Promise<string[]> {
  const applied = await appliedVersions(pool);
  checkNotAhead(applied, migrations);
  return migrations.filter((m) => !applied.has(m.version)).map((m) => `${m.version}_${m.name}`);
}
