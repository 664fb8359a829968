/**
 * Runtime processes as children (for SIGKILL/SIGTERM tests and the CLI): started with the test
 * environment's variables, killed at clean-up if still running.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestEnvironment } from './environment.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/archibald.js', import.meta.url));

export interface Child {
  process: ChildProcess;
  output(): string;
  /** Resolves with the first stdout line matching, rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function track(child: ChildProcess): Child {
  let out = '';
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    output: () => out,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    waitFor(pattern) {
      const m = out.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(({ code, signal }) =>
          reject(new Error(`process exited (${code ?? signal}) before ${pattern}; output:\n${out}`)),
        );
      });
    },
  };
}

function spawnTracked(environment: TestEnvironment, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...environment.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tracked = track(child);
  environment.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await tracked.exited;
    }
  });
  return tracked;
}

/** A worker child with the fixture stages; resolves once it takes jobs. */
export async function spawnFixtureWorker(
  environment: TestEnvironment,
  env: Record<string, string> = {},
): Promise<Child> {
  const child = spawnTracked(environment, ['--import', 'tsx', WORKER_MAIN], env);
  await child.waitFor(/^ready /m);
  return child;
}

/** Starts `archibald <args>` (e.g. serve, worker) as a long-running child. */
export function spawnCli(
  environment: TestEnvironment,
  args: string[],
  env: Record<string, string> = {},
): Child {
  return spawnTracked(environment, [CLI, ...args], env);
}

/** Runs `archibald <args>` to completion. */
export async function runCli(
  environment: TestEnvironment,
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessExit> {
  return runNode([CLI, ...args], { ...environment.env, ...env });
}

export interface ProcessExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` from the repository root to completion, collecting its output. */
export async function runNode(args: string[], env: Record<string, string> = {}): Promise<ProcessExit> {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Polls until `check` returns a value (not undefined): the drills' own poller, under the tests' name. */
export { until as eventually } from '../../drills/support/run.js';
