/**
 * Postgres pools: the primary takes every write; reads that may lag a little (the GET routes) go to
 * the replica when one is configured, otherwise to the primary too.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';

export interface Database {
  readonly primary: pg.Pool;
  /** The read replica's pool, or the primary's when there is no replica. */
  readonly read: pg.Pool;
  close(): Promise<void>;
}

/** The URL without its password, so the password option (a rotating secret) is the one used. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

function createPool(url: string, config: Config['database'], name: string, log?: Logger): pg.Pool {
  const secret = config.password;
  const pool = new pg.Pool({
    connectionString: secret ? withoutPassword(url) : url,
    ...(secret ? { password: () => secret.value() } : {}),
    max: config.poolMax,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: `archibald-${name}`,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (error) => log?.warn({ err: error, pool: name }, 'postgres idle client error'));
  return pool;
}

export function createDatabase(config: Config['database'], log?: Logger): Database {
  const primary = createPool(config.url, config, 'primary', log);
  const read = config.readUrl ? createPool(config.readUrl, config, 'replica', log) : primary;
  return {
    primary,
    read,
    async close() {
      await primary.end();
      if (read !== primary) await read.end();
    },
  };
}
