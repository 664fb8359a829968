/**
 * The runtime stack most drills start from: a private Postgres (database `archibald`), a private
 * Redis without persistence, `archibald serve` (which applies the migrations) and an API key.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { postgresTools, startRuntimeDatabase } from './postgres.js';
import type { PgServer } from './postgres.js';
import { startRedis } from './redis.js';
import type { PrivateRedis } from './redis.js';
import { until } from './run.js';
import type { DrillRun } from './run.js';
import { client, createKey, runtimeEnv, startServe, untilReady } from './runtime.js';
import type { Api } from './runtime.js';

export interface Stack {
  db: PgServer;
  redis: PrivateRedis;
  env: Record<string, string>;
  api: Api;
  /** The API key the drill's client submits with. */
  key: string;
}

export async function startStack(run: DrillRun, runtimeSettings: Record<string, string>): Promise<Stack> {
  const tools = await run.step('check the PostgreSQL and Redis binaries', () => postgresTools());
  const [pgPort, redisPort] = await run.step('reserve loopback ports', async () => [
    await run.port(),
    await run.port(),
  ]);
  const db = await run.step('start PostgreSQL', () => startRuntimeDatabase(run, tools, pgPort));
  const redis = await run.step('start Redis (no persistence, as ElastiCache)', () =>
    startRedis(run, redisPort),
  );
  const env = await runtimeEnv(run, db.url('archibald'), redis.url, runtimeSettings);
  const { api, key } = await run.step(
    'start the runtime (archibald serve) and create an API key',
    async () => {
      const started = await startServe(run, 'archibald serve', env);
      await untilReady(started);
      const key = await createKey(run, env.DATABASE_URL!);
      return { api: { ...started, call: client(started.url, key) }, key };
    },
  );
  return { db, redis, env, api, key };
}

export interface VideoRow {
  id: string;
  status: string;
  current_stage: string | null;
  attempts: number;
}

export async function videoRows(db: PgServer): Promise<VideoRow[]> {
  const { rows } = await db.query<VideoRow>(
    'SELECT id, status, current_stage, attempts FROM videos ORDER BY created_at',
    [],
    'archibald',
  );
  return rows;
}

/** Waits until every id is completed in Postgres; fails naming those that ended otherwise or never did. */
export async function untilAllCompleted(
  db: PgServer,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const completedAt = new Map<string, number>();
  await until(
    `${ids.length} videos to complete`,
    async () => {
      const rows = new Map((await videoRows(db)).map((r) => [r.id, r]));
      for (const id of ids) {
        const row = rows.get(id);
        if (row?.status === 'completed' && !completedAt.has(id)) completedAt.set(id, Date.now());
        if (row && (row.status === 'failed' || row.status === 'cancelled'))
          throw new Error(`video ${id} ended ${row.status}`);
      }
      return completedAt.size === ids.length ? true : undefined;
    },
    timeoutMs,
    200,
  ).catch((error: unknown) => {
    const pending = ids.filter((id) => !completedAt.has(id));
    throw new Error(`${(error as Error).message}; not completed: ${pending.join(', ')}`);
  });
  return completedAt;
}

/** How many times each video was recorded completed (the audit log), and the published objects. */
export async function completionsAndObjects(
  db: PgServer,
  storageDir: string,
): Promise<{ completions: Map<string, number>; objects: string[] }> {
  const { rows } = await db.query<{ subject: string; n: string }>(
    `SELECT subject, count(*) AS n FROM audit_log WHERE action = 'video.completed' GROUP BY subject`,
    [],
    'archibald',
  );
  const objects = await readdir(join(storageDir, 'videos')).catch(() => [] as string[]);
  return { completions: new Map(rows.map((r) => [r.subject, Number(r.n)])), objects: objects.sort() };
}

/** Checks each id completed exactly once with exactly its two objects, and nothing else published. */
export function exactlyOnce(
  ids: string[],
  completions: Map<string, number>,
  objects: string[],
): { problems: string[]; checked: string } {
  const problems: string[] = [];
  for (const id of ids) {
    const n = completions.get(id) ?? 0;
    if (n !== 1) problems.push(`${id} recorded completed ${n} times`);
  }
  const expected = ids.flatMap((id) => [`${id}.mp4`, `${id}.vtt`]).sort();
  const extra = objects.filter((o) => !expected.includes(o));
  const missing = expected.filter((o) => !objects.includes(o));
  if (extra.length) problems.push(`unexpected objects in storage: ${extra.join(', ')}`);
  if (missing.length) problems.push(`objects missing from storage: ${missing.join(', ')}`);
  return {
    problems,
    checked: `${ids.length} videos each recorded completed exactly once (audit log), storage holds exactly their ${expected.length} objects (MP4 + WebVTT each), nothing else`,
  };
}

/** Counts "video published" (an upload, not a skip) per video in worker logs. */
export function uploadsPerVideo(logs: string[]): Map<string, number> {
  const uploads = new Map<string, number>();
  for (const line of logs.join('\n').split('\n')) {
    if (!line.includes('"msg":"video published"')) continue;
    try {
      const entry = JSON.parse(line) as { videoId?: string; uploaded?: boolean };
      if (entry.videoId && entry.uploaded) uploads.set(entry.videoId, (uploads.get(entry.videoId) ?? 0) + 1);
    } catch {
      // a line cut by SIGKILL
    }
  }
  return uploads;
}
