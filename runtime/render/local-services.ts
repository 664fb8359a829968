/**
 * Checks that the local PostgreSQL and Redis a demo needs are there, creating the database when
 * the server is up but the database is not, and saying exactly what to start when one is down.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from '../config/load.js';

export class MissingServiceError extends Error {
  override readonly name = 'MissingServiceError';
}

function target(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('redis') ? 6379 : 5432)}`;
}

async function connectPostgres(url: string, password: string | undefined): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 3000,
    ...(password ? { password } : {}),
  });
  await client.connect();
  return client;
}

/** PostgreSQL reachable and the configured database present (created if it is not). */
export async function ensurePostgres(database: Config['database']): Promise<'present' | 'created'> {
  const password = database.password?.value();
  try {
    const client = await connectPostgres(database.url, password);
    await client.end();
    return 'present';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '3D000') {
      throw new MissingServiceError(
        `PostgreSQL is not reachable at ${target(database.url)} (${(error as Error).message}). ` +
          'Start it (for example `sudo pg_ctlcluster 15 main start` or `sudo service postgresql start`), ' +
          'or point DATABASE_URL at a running server, and run the demo again.',
      );
    }
  }
  // The server is up but the database is missing: create it from the maintenance database.
  const url = new URL(database.url);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = await connectPostgres(url.toString(), password);
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error; // created meanwhile by someone else
  } finally {
    await admin.end();
  }
  return 'created';
}

/** Redis answering PING at the configured URL (a cluster is checked by the API when it starts). */
export async function ensureRedis(redis: Config['redis']): Promise<void> {
  if (redis.clusterNodes?.length) return;
  const client = new Redis(redis.url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...(redis.password ? { password: redis.password.value() } : {}),
    ...(redis.tls ? { tls: {} } : {}),
  });
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new MissingServiceError(
      `Redis is not reachable at ${target(redis.url)} (${(cause ?? (error as Error)).message}). ` +
        'Start it (for example `redis-server --daemonize yes` or `sudo service redis-server start`), ' +
        'or point REDIS_URL at a running server, and run the demo again.',
    );
  } finally {
    client.disconnect();
  }
}
