/**
 * API load benchmark (not a test): autocannon against POST /v1/videos and GET /v1/videos/:id on
 * `archibald serve` (real Postgres and Redis, its own database and key prefix, removed after), and
 * against a bare fastify with the same routes in the same run; prints requests/s, latency and the
 * ratio. Run: node --import tsx bench/api/run.ts   (BENCH_SECONDS=10, BENCH_CONNECTIONS=10)
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createApiKey } from '../../runtime/db/api-keys.js';
import { createDatabase } from '../../runtime/db/pool.js';
import { migrate } from '../../runtime/db/migrate.js';
import { createTestEnvironment } from '../../test/support/environment.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const root = fileURLToPath(new URL('../../', import.meta.url));

function start(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /(?:ready |"address":")(http:\/\/[^\s"]+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function load(
  url: string,
  options: { method: 'GET' | 'POST'; path: string; key?: string; body?: string },
): Promise<Result> {
  const result = await autocannon({
    url: url + options.path,
    method: options.method,
    connections,
    duration: seconds,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body ? { body: options.body } : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  };
}

const environment = await createTestEnvironment({ LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000' });
const children: ChildProcess[] = [];
try {
  const db = createDatabase(environment.config().database);
  await migrate(db.primary);
  const { key } = await createApiKey(db.primary, 'bench');
  await db.close();

  const api = await start(['bin/archibald.js', 'serve'], { ...environment.env, LOG_LEVEL: 'info' });
  children.push(api.child);
  const bare = await start(['--import', 'tsx', 'bench/api/bare-fastify.ts'], {});
  children.push(bare.child);

  const body = JSON.stringify({ topic: 'benchmark calm', durationSeconds: 60 });
  const created = await fetch(`${api.url}/v1/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  const { id } = (await created.json()) as { id: string };

  const rows: Array<[string, Result, Result]> = [];
  for (const [name, method, path, payload] of [
    ['POST /v1/videos', 'POST', '/v1/videos', body],
    ['GET /v1/videos/:id', 'GET', `/v1/videos/${id}`, undefined],
  ] as const) {
    const ours = await load(api.url, { method, path, key, ...(payload ? { body: payload } : {}) });
    const baseline = await load(bare.url, { method, path, ...(payload ? { body: payload } : {}) });
    rows.push([name, ours, baseline]);
  }

  console.log(`\nAPI load: ${connections} connections, ${seconds} s per run, on this machine\n`);
  console.log(
    '| route | archibald req/s | p50 / p99 ms | bare fastify req/s | p50 / p99 ms | ratio | non-2xx |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, ours, base] of rows) {
    console.log(
      `| ${name} | ${ours.rps.toFixed(0)} | ${ours.p50} / ${ours.p99} | ${base.rps.toFixed(0)} | ${base.p50} / ${base.p99} | ` +
        `${(ours.rps / base.rps).toFixed(3)} | ${ours.non2xx} |`,
    );
  }
} finally {
  for (const child of children) await stop(child);
  await environment.cleanup();
}
