/**
 * API load benchmark (not a test): autocannon against POST /v1/videos and GET /v1/videos/:id on
 * `archibald serve` (real Postgres and Redis, its own database and key prefix, removed after) and,
 * in the same run, against two references:
 *   - the I/O floor (bench/api/floor.ts): a bare fastify doing only the I/O the route must do;
 *   - a bare fastify doing no I/O at all (bench/api/bare-fastify.ts).
 * Closed-loop runs at each of BENCH_CONNECTIONS, then an open-loop run at BENCH_RATE req/s.
 * Prints a Markdown table and writes JSON (BENCH_JSON, default bench/api/results.json).
 *
 * Run: node --import tsx bench/api/run.ts
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=10,50 BENCH_RATE=1000 BENCH_REPEAT=1
 *   BENCH_PROFILE=<dir>   run the API under node --cpu-prof, profiles written to <dir>
 *   BENCH_ROUTES=GET      only the routes whose name contains one of these (comma-separated)
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createApiKey } from '../../runtime/db/api-keys.js';
import { createDatabase } from '../../runtime/db/pool.js';
import { migrate } from '../../runtime/db/migrate.js';
import { createTestEnvironment } from '../../test/support/environment.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connectionCounts = (process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
const rate = Number(process.env.BENCH_RATE ?? 1000);
const repeat = Number(process.env.BENCH_REPEAT ?? 1);
const profileDir = process.env.BENCH_PROFILE;
const routeFilter = (process.env.BENCH_ROUTES ?? '').split(',').filter(Boolean);
const root = fileURLToPath(new URL('../../', import.meta.url));
const jsonPath = process.env.BENCH_JSON ?? `${root}bench/api/results.json`;

function start(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let ready = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (ready) return; // the API's request log: read and dropped, as a log shipper would
      out += chunk.toString();
      const m = /(?:ready |"address":")(http:\/\/[^\s"]+)/.exec(out);
      if (m) {
        ready = true;
        out = '';
        resolve({ child, url: m[1]! });
      }
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

/** CPU time (user + system) a process has used, in microseconds, from /proc (Linux). */
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface Result {
  rps: number;
  /** The server process's CPU time per request: unlike req/s, barely moved by other load. */
  cpuUsPerRequest?: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(
  server: { url: string; child: ChildProcess },
  options: { method: 'GET' | 'POST'; path: string; key?: string; body?: string },
  shape: { connections: number; rate?: number },
): Promise<Result> {
  const cpuBefore = cpuMicros(server.child.pid);
  const result = await autocannon({
    url: server.url + options.path,
    method: options.method,
    connections: shape.connections,
    duration: seconds,
    ...(shape.rate ? { overallRate: shape.rate } : {}),
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
    ...cpuPerRequest(cpuBefore, cpuMicros(server.child.pid), result.requests.total),
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

function cpuPerRequest(before: number | undefined, after: number | undefined, requests: number) {
  if (before === undefined || after === undefined || requests === 0) return {};
  return { cpuUsPerRequest: Math.round((after - before) / requests) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const spread = (xs: number[], digits: number) =>
  xs.length > 1 ? ` (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : '';

interface Cell {
  route: string;
  shape: string;
  archibald: Result[];
  floor: Result[];
  bare: Result[];
}

const environment = await createTestEnvironment({ LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000' });
const children: ChildProcess[] = [];
try {
  const db = createDatabase(environment.config().database);
  await migrate(db.primary);
  const { key } = await createApiKey(db.primary, 'bench');
  await db.close();

  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  // The compiled build (npm run build), as the image runs it; API_BUILD picks another to compare.
  const api = await start([...profile, `${process.env.API_BUILD ?? 'dist'}/bin/archibald.js`, 'serve'], {
    ...environment.env,
    LOG_LEVEL: 'info',
  });
  children.push(api.child);
  const floor = await start(['--import', 'tsx', 'bench/api/floor.ts'], environment.env);
  children.push(floor.child);
  const bare = await start(['--import', 'tsx', 'bench/api/bare-fastify.ts'], {});
  children.push(bare.child);

  const body = JSON.stringify({ topic: 'benchmark calm', durationSeconds: 60 });
  const created = await fetch(`${api.url}/v1/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
  const { id } = (await created.json()) as { id: string };

  const allRoutes = [
    ['POST /v1/videos', 'POST', '/v1/videos', body],
    ['GET /v1/videos/:id', 'GET', `/v1/videos/${id}`, undefined],
  ] as const;
  const routes = allRoutes.filter(
    ([name]) => routeFilter.length === 0 || routeFilter.some((f) => name.includes(f)),
  );
  const shapes: Array<{ name: string; connections: number; rate?: number }> = [
    ...connectionCounts.map((c) => ({ name: `${c} conn`, connections: c })),
    { name: `open ${rate}/s`, connections: 100, rate },
  ];
  const cells: Cell[] = [];
  const loads: number[] = [];
  for (let round = 0; round < repeat; round++) {
    loads.push(loadavg()[0]!);
    for (const [name, method, path, payload] of routes)
      for (const shape of shapes) {
        let cell = cells.find((c) => c.route === name && c.shape === shape.name);
        if (!cell) {
          cell = { route: name, shape: shape.name, archibald: [], floor: [], bare: [] };
          cells.push(cell);
        }
        const request = { method, path, ...(payload ? { body: payload } : {}) };
        cell.archibald.push(await load(api, { ...request, key }, shape));
        cell.floor.push(await load(floor, request, shape));
        if (!shape.rate) cell.bare.push(await load(bare, request, shape));
      }
  }

  const fmt = (rs: Result[]) =>
    rs.length === 0
      ? '–'
      : `${median(rs.map((r) => r.rps)).toFixed(0)}${spread(
          rs.map((r) => r.rps),
          0,
        )} | ${median(rs.map((r) => r.p50))} / ${median(rs.map((r) => r.p99))}`;
  const ratios = (a: Result[], b: Result[]) => a.map((r, i) => r.rps / b[i]!.rps);
  const cpu = (rs: Result[]) => {
    const xs = rs.flatMap((r) => (r.cpuUsPerRequest === undefined ? [] : [r.cpuUsPerRequest]));
    return xs.length === 0 ? undefined : median(xs);
  };
  console.log(
    `\nAPI load: ${seconds} s per run, ${repeat} round(s), load average at start of each round: ` +
      `${loads.map((l) => l.toFixed(1)).join(', ')}\n`,
  );
  console.log(
    '| route | load | archibald req/s | p50 / p99 ms | I/O floor req/s | p50 / p99 ms | ratio to floor | ' +
      'CPU µs/req archibald / floor | no-I/O req/s | p50 / p99 ms | non-2xx |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const summary = cells.map((cell) => {
    const r = ratios(cell.archibald, cell.floor);
    console.log(
      `| ${cell.route} | ${cell.shape} | ${fmt(cell.archibald)} | ${fmt(cell.floor)} | ` +
        `${cell.shape.startsWith('open') ? '–' : median(r).toFixed(2) + spread(r, 2)} | ` +
        `${cpu(cell.archibald) ?? '–'} / ${cpu(cell.floor) ?? '–'} | ${fmt(cell.bare)} | ` +
        `${cell.archibald.reduce((n, x) => n + x.non2xx + x.errors, 0)} |`,
    );
    const [own, floorCpu] = [cpu(cell.archibald), cpu(cell.floor)];
    return {
      ...cell,
      ratioToFloor: median(r),
      ratioToFloorAll: r,
      ...(own && floorCpu ? { cpuRatioToFloor: floorCpu / own } : {}),
    };
  });
  await writeFile(
    jsonPath,
    JSON.stringify(
      { date: new Date().toISOString(), seconds, repeat, rate, loadAverage: loads, cells: summary },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nJSON: ${jsonPath}`);
} finally {
  for (const child of children) await stop(child);
  await environment.cleanup();
}
