/**
 * One isolated runtime environment per test file: its own Postgres database, Redis key prefix and
 * storage/work directories, and the env vars that point the runtime at them. `cleanup()` removes
 * all of it; `useTestEnvironment()` registers that with node:test's `after` so it runs on failure too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { loadConfig } from '../../runtime/config/load.js';
import type { Config } from '../../runtime/config/load.js';
import { createTestDatabase } from './database.js';
import type { TestDatabase } from './database.js';
import { TEST_REDIS_URL, deleteKeys, testKeyPrefix } from './redis.js';

export interface TestEnvironment {
  database: TestDatabase;
  keyPrefix: string;
  dir: string;
  /** Env vars for a runtime process (in-process config or a child's environment). */
  env: Record<string, string>;
  config(overrides?: Record<string, string>): Config;
  /** Registers extra clean-up (closing servers, killing children) to run before the database is dropped. */
  defer(fn: () => unknown): void;
  cleanup(): Promise<void>;
}

export async function createTestEnvironment(
  overrides: Record<string, string> = {},
): Promise<TestEnvironment> {
  const database = await createTestDatabase();
  const keyPrefix = testKeyPrefix();
  const dir = await mkdtemp(join(tmpdir(), 'archibald-test-'));
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: keyPrefix,
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    API_METRICS_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    STORAGE_DIR: join(dir, 'videos'),
    WORK_DIR: join(dir, 'work'),
    ASSET_CACHE_DIR: join(dir, 'cache'),
    WORKER_SHUTDOWN_GRACE_SECONDS: '5',
    // Tests poll the API; the rate-limit test sets its own small limit.
    RATE_LIMIT_MAX: '1000000',
    ...overrides,
  };
  const deferred: Array<() => unknown> = [];
  let cleaned = false;
  return {
    database,
    keyPrefix,
    dir,
    env,
    config: (more = {}) => loadConfig({ ...env, ...more }),
    defer: (fn) => deferred.push(fn),
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      const errors: unknown[] = [];
      for (const fn of deferred.reverse()) {
        try {
          await fn();
        } catch (error) {
          errors.push(error);
        }
      }
      await database.drop().catch((e: unknown) => errors.push(e));
      await deleteKeys(keyPrefix, env.REDIS_URL).catch((e: unknown) => errors.push(e));
      await rm(dir, { recursive: true, force: true });
      if (errors.length > 0) throw new AggregateError(errors, 'test environment clean-up failed');
    },
  };
}

/** createTestEnvironment + clean-up registered with `after` (runs even when a test fails). */
export async function useTestEnvironment(overrides: Record<string, string> = {}): Promise<TestEnvironment> {
  const environment = await createTestEnvironment(overrides);
  after(() => environment.cleanup());
  return environment;
}

/**
 * A pool on the environment's database for a test's own queries, ended at clean-up. It ignores an
 * idle client's loss: dropping the database at clean-up terminates its connections, and the
 * runtime's pools (which log it) are what the tests are about.
 */
export function testPool(environment: TestEnvironment, max = 1): pg.Pool {
  const pool = new pg.Pool({ connectionString: environment.database.url, max });
  pool.on('error', () => {});
  environment.defer(() => pool.end());
  return pool;
}
