/**
 * The real runtime, as operators run it: `archibald migrate`, `archibald keys create`,
 * `archibald serve` and `archibald worker` as children, pointed at the drill's Postgres and Redis.
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createApiKey } from '../../runtime/db/api-keys.js';
import { spawnChild } from './children.js';
import type { Child } from './children.js';
import { until } from './run.js';
import type { DrillRun } from './run.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'archibald.js');

/** Environment for the runtime against a database and Redis, with its files in the drill's directory. */
export async function runtimeEnv(
  run: DrillRun,
  databaseUrl: string,
  redisUrl: string,
  more: Record<string, string> = {},
): Promise<Record<string, string>> {
  const dir = await run.privateDir();
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    API_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    STORAGE_DIR: join(dir, 'videos'),
    WORK_DIR: join(dir, 'work'),
    // The asset cache is a cache: shared between runs (the runtime's default place) so a drill
    // renders only what it has not rendered before. DRILL_ASSET_CACHE_DIR moves it.
    ASSET_CACHE_DIR: process.env.DRILL_ASSET_CACHE_DIR ?? join(REPO_ROOT, 'var', 'cache'),
    RATE_LIMIT_MAX: '1000000',
    ...more,
  };
}

export function archibald(run: DrillRun, name: string, args: string[], env: Record<string, string>): Child {
  return spawnChild(run, name, process.execPath, [CLI, ...args], env);
}

/**
 * The key a drill's client submits with: what `archibald keys create` does, called in-process
 * (starting the CLI costs seconds on a loaded machine; the drills measure recovery, not that).
 */
export async function createKey(run: DrillRun, databaseUrl: string): Promise<string> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    return (await createApiKey(pool, `drill ${run.scenario}`, 'cli')).key;
  } finally {
    await pool.end();
  }
}

export interface Api {
  child: Child;
  url: string;
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
}

/** `archibald serve`; resolves once it listens (not necessarily ready). */
export async function startServe(
  run: DrillRun,
  name: string,
  env: Record<string, string>,
  key?: string,
): Promise<Api> {
  const child = archibald(run, name, ['serve'], env);
  const [, url] = await child.waitFor(/"address":"(http:\/\/[^"]+)"/, 120_000);
  return { child, url: url!, call: client(url!, key) };
}

export function client(baseUrl: string, key?: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, body: parsed as T };
  };
}

/** Polls /ready until 200. */
export async function untilReady(api: Api, timeoutMs = 120_000): Promise<void> {
  await until(
    `${api.url}/ready to answer 200`,
    async () => {
      if (!api.child.running()) throw new Error(`${api.child.name} exited`);
      return (await api.call('GET', '/ready')).status === 200 ? true : undefined;
    },
    timeoutMs,
    50,
  );
}

/** `archibald worker`; resolves once it takes jobs. */
export async function startWorker(run: DrillRun, name: string, env: Record<string, string>): Promise<Child> {
  const child = archibald(run, name, ['worker'], env);
  await child.waitFor(/"metrics":"http:\/\/[^"]+"/, 120_000);
  return child;
}

/** The standard short video the drills submit: 15 s (the minimum), so renders stay quick. */
export function drillVideo(topic: string): Record<string, unknown> {
  return { topic, durationSeconds: 15, aspect: '16:9', resolution: '720p' };
}

/** A video the API acknowledged (202): what it returned, and when the answer arrived. */
export interface AcknowledgedVideo {
  id: string;
  createdAt: string;
  topic: string;
  at: number;
}

export interface VideoWriter {
  readonly acknowledged: AcknowledgedVideo[];
  /** Submissions that were not acknowledged (an error status or no answer). */
  readonly refused: number;
  stop(): Promise<void>;
}

/** Submits videos one at a time until stopped, `pauseMs` apart; stopped at clean-up too. */
export function startVideoWriter(run: DrillRun, api: Api, label: string, pauseMs: number): VideoWriter {
  const acknowledged: AcknowledgedVideo[] = [];
  let refused = 0;
  let writing = true;
  const done = (async () => {
    for (let i = 0; writing; i++) {
      try {
        const response = await api.call<{ id: string; createdAt: string; request: { topic: string } }>(
          'POST',
          '/v1/videos',
          drillVideo(`${label} ${i}`),
        );
        if (response.status === 202)
          acknowledged.push({
            id: response.body.id,
            createdAt: response.body.createdAt,
            topic: response.body.request.topic,
            at: Date.now(),
          });
        else refused++;
      } catch {
        refused++;
      }
      await delay(pauseMs);
    }
  })();
  const stop = async () => {
    writing = false;
    await done;
  };
  run.defer('stop the writer', stop);
  return {
    acknowledged,
    get refused() {
      return refused;
    },
    stop,
  };
}
