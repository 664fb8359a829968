/**
 * Start-up benchmark (not a test): the CLI started the way the image used to start it (TypeScript
 * through tsx, bin/archibald.js) against the way it starts now (the compiled dist/bin/archibald.js
 * with --enable-source-maps), in the same run, against real Postgres and Redis (its own database
 * and key prefix, removed after). Per way of starting, median of BENCH_RUNS (default 3) starts:
 * - serve: process start → the first 200 from /ready, and the RSS 3 s after that (idle);
 * - worker: process start → "job started" for a 15 s video queued before the start, and the RSS of
 *   a worker 3 s after "worker taking jobs" with nothing queued (idle).
 * Also the CPU time each start used to get there (user + system, all threads), which a busy machine
 * distorts less than the wall time.
 * tsx runs twice: with an empty cache (a new pod: tsx writes its compile cache under TMPDIR, which
 * in a pod is a fresh emptyDir) and with the cache the previous start left (a restarted container).
 * Needs `npm run build` first. Run: npm run bench:start
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../../runtime/db/migrate.js';
import { createDatabase } from '../../runtime/db/pool.js';
import { apiClient, createTestKey, startTestApi } from '../../test/support/api.js';
import { createTestEnvironment } from '../../test/support/environment.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const root = fileURLToPath(new URL('../../', import.meta.url));
const SETTLE_MS = 3000;

interface Way {
  name: string;
  argv: string[];
  /** TMPDIR for the start: a fresh directory per start (tsx's cache empty) or a kept one. */
  tmp: 'fresh' | 'kept';
}

const WAYS: Way[] = [
  { name: 'tsx, empty cache (new pod)', argv: ['bin/archibald.js'], tmp: 'fresh' },
  { name: 'tsx, warm cache (restart)', argv: ['bin/archibald.js'], tmp: 'kept' },
  { name: 'compiled (the image)', argv: ['--enable-source-maps', 'dist/bin/archibald.js'], tmp: 'fresh' },
];

if (!existsSync(join(root, 'dist/bin/archibald.js'))) throw new Error('run npm run build first');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const TICK_MS = 1000 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

/** CPU time (user + system, every thread) the process has used so far. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

interface Started {
  child: ChildProcess;
  t0: bigint;
  /** Milliseconds from the spawn to the first stdout line matching. */
  line(pattern: RegExp): Promise<number>;
  stop(): Promise<void>;
}

function start(way: Way, command: string, env: Record<string, string>, tmp: string): Started {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [...way.argv, command], {
    cwd: root,
    env: { ...process.env, ...env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { pattern: RegExp; resolve: (ms: number) => void }[] = [];
  const onData = (chunk: Buffer): void => {
    const at = Number(process.hrtime.bigint() - t0) / 1e6;
    out += chunk.toString();
    for (const w of [...waiters])
      if (w.pattern.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(at);
      }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    t0,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`${way.name} ${command} exited:\n${out.slice(-3000)}`)));
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function untilReady(s: Started, port: number): Promise<number> {
  for (;;) {
    if (s.child.exitCode !== null) throw new Error('serve exited before /ready');
    try {
      const reply = await fetch(`http://127.0.0.1:${port}/ready`);
      if (reply.status === 200) return Number(process.hrtime.bigint() - s.t0) / 1e6;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const environment = await createTestEnvironment({ LOG_LEVEL: 'info' });
const kept = new Map<Way, string>();
const fresh: string[] = [];
const tmpFor = (way: Way): string => {
  if (way.tmp === 'kept') {
    const dir = kept.get(way) ?? mkdtempSync(join(tmpdir(), 'archibald-bench-start-kept-'));
    kept.set(way, dir);
    return dir;
  }
  const dir = mkdtempSync(join(tmpdir(), 'archibald-bench-start-'));
  fresh.push(dir);
  return dir;
};
const results = new Map<
  Way,
  {
    ready: number[];
    readyCpu: number[];
    serveRss: number[];
    taken: number[];
    takenCpu: number[];
    workerRss: number[];
  }
>(WAYS.map((w) => [w, { ready: [], readyCpu: [], serveRss: [], taken: [], takenCpu: [], workerRss: [] }]));
try {
  const db = createDatabase(environment.config().database);
  await migrate(db.primary);
  await db.close();
  // The control API, in this process: submits the videos the measured workers take.
  const api = await startTestApi(environment, { LOG_LEVEL: 'silent' });
  const { key } = await createTestKey(environment, 'bench-start');
  const call = apiClient(api.url, key);

  // Warm the kept tsx cache and the OS page cache once, unmeasured.
  for (const way of WAYS) {
    const port = await freePort();
    const s = start(way, 'serve', { ...environment.env, PORT: String(port) }, tmpFor(way));
    await untilReady(s, port);
    await s.stop();
  }

  for (let run = 1; run <= runs; run++) {
    for (const way of WAYS) {
      const r = results.get(way)!;
      // serve: to /ready, then idle RSS.
      const port = await freePort();
      const serve = start(way, 'serve', { ...environment.env, PORT: String(port) }, tmpFor(way));
      r.ready.push(await untilReady(serve, port));
      r.readyCpu.push(cpuMs(serve.child.pid!));
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      r.serveRss.push(rssMiB(serve.child.pid!));
      await serve.stop();

      // worker, idle: nothing queued.
      const idle = start(way, 'worker', environment.env, tmpFor(way));
      await idle.line(/"msg":"worker taking jobs"/);
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      r.workerRss.push(rssMiB(idle.child.pid!));
      await idle.stop();

      // worker: a 15 s video queued before the start, to the job taken; then let it finish.
      const created = await call('POST', '/v1/videos', {
        body: { topic: `start bench ${run}`, durationSeconds: 15 },
      });
      if (created.status !== 202) throw new Error(`POST /v1/videos: ${created.status}`);
      const worker = start(way, 'worker', environment.env, tmpFor(way));
      r.taken.push(await worker.line(/"msg":"job started"/));
      r.takenCpu.push(cpuMs(worker.child.pid!));
      for (let i = 0; ; i++) {
        const v = await call('GET', `/v1/videos/${created.body.id as string}`);
        if (['completed', 'failed', 'cancelled'].includes(v.body.status as string)) break;
        if (i > 600) throw new Error('the video did not finish in 2 minutes');
        await new Promise((res) => setTimeout(res, 200));
      }
      await worker.stop();
      process.stderr.write(`run ${run}/${runs} ${way.name}: done\n`);
    }
  }

  const base = results.get(WAYS[2] as Way)!;
  console.log(`\nStart-up: median of ${runs} starts each, on this machine (node ${process.version})\n`);
  console.log(
    '| way | serve → /ready ms (CPU ms) | serve idle RSS MiB | worker → job taken ms (CPU ms) | worker idle RSS MiB |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const way of WAYS) {
    const r = results.get(way)!;
    const ratio = (xs: number[], bs: number[]): string =>
      way === WAYS[2] ? '' : ` ${(median(xs) / median(bs)).toFixed(2)}×`;
    const cell = (xs: number[], bs: number[], digits: number): string =>
      `${median(xs).toFixed(digits)}${ratio(xs, bs)}`;
    console.log(
      `| ${way.name} | ${cell(r.ready, base.ready, 0)} (${cell(r.readyCpu, base.readyCpu, 0)}) | ` +
        `${cell(r.serveRss, base.serveRss, 1)} | ${cell(r.taken, base.taken, 0)} (${cell(r.takenCpu, base.takenCpu, 0)}) | ` +
        `${cell(r.workerRss, base.workerRss, 1)} |`,
    );
  }
  console.log('\n(×: against the compiled start)');
} finally {
  await environment.cleanup();
  for (const dir of [...fresh, ...kept.values()]) rmSync(dir, { recursive: true, force: true });
}
