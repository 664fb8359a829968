/**
 * Postgres pools: the primary takes every write; reads that may lag a little (the GET routes) are
 * spread over the read replicas, one pool each, when any are configured, otherwise they go to the
 * primary too. One pool per replica (rather than one DNS name in front of them all) lets each
 * connection verify the certificate of the server it actually reaches.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';

export interface Database {
  readonly primary: pg.Pool;
  /** One pool per read replica; empty when reads go to the primary. */
  readonly replicas: readonly pg.Pool[];
  /** The pool for the next lag-tolerant read: the replicas in turn, or the primary. */
  reader(): pg.Pool;
  close(): Promise<void>;
}

/**
 * node-postgres reads the connection string over the options it is given, password included: a
 * URL without a password would replace the password option with an empty one. The URL (with its
 * sslmode and sslrootcert) stays node-postgres' to read, and each client gets the rotating secret
 * after it has done so.
 */
function clientWithPassword(password: () => string): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      // A function is what node-postgres calls for each authentication (its types say string only).
      Object.assign(this, { password });
    }
  } as typeof pg.Client;
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
    ...(secret
      ? { Client: clientWithPassword(() => secret.value()) as unknown as new () => pg.ClientBase }
      : {}),
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
  const replicas = config.readUrls.map((url, i) =>
    createPool(url, config, config.readUrls.length > 1 ? `replica-${i}` : 'replica', log),
  );
  let next = 0;
  return {
    primary,
    replicas,
    reader() {
      if (replicas.length === 0) return primary;
      next = (next + 1) % replicas.length;
      return replicas[next] as pg.Pool;
    },
    async close() {
      await Promise.all([primary, ...replicas].map((pool) => pool.end()));
    },
  };
}
