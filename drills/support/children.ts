/**
 * Children of a drill: each in its own process group (so killing one takes its ffmpeg or
 * postgres children with it, as a node dying would), output kept for waiting on and for the
 * failure message, killed at the drill's clean-up if still running.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { DrillRun } from './run.js';

export interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
  /** Resolves with the first output match; rejects if the process exits first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** SIGKILL to the whole process group. */
  kill(): Promise<void>;
  /** `signal` to the process, SIGKILL to the group after graceMs. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function spawnChild(
  run: DrillRun,
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const child = spawn(command, args, {
    env: { ...process.env, ...run.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    void spawnError.then(() => resolve({ code: -1, signal: null }));
  });
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const tracked: Child = {
    name,
    process: child,
    output: () => out,
    exited,
    running,
    async kill() {
      killGroup('SIGKILL');
      if (running()) await exited;
    },
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (running()) {
        child.kill(signal);
        const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Whatever it left in its group (an orphaned ffmpeg) goes too.
      killGroup('SIGKILL');
    },
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => out.match(pattern);
        const found = check();
        if (found) return resolve(found);
        const timer = setInterval(() => {
          const m = check();
          if (m) {
            clearInterval(timer);
            clearTimeout(deadline);
            resolve(m);
          }
        }, 50);
        const deadline = setTimeout(() => {
          clearInterval(timer);
          reject(
            new Error(`${name} did not print ${pattern} within ${timeoutMs / 1000} s; output:\n${tail(out)}`),
          );
        }, timeoutMs);
        void exited.then(async ({ code, signal }) => {
          const m = check();
          clearInterval(timer);
          clearTimeout(deadline);
          if (m) return resolve(m);
          const err = await Promise.race([spawnError, Promise.resolve(undefined)]);
          reject(
            new Error(
              `${name} exited (${err ? err.message : (code ?? signal)}) before printing ${pattern}; output:\n${tail(out)}`,
            ),
          );
        });
      });
    },
  };
  run.defer(`stop ${name}`, () => tracked.stop('SIGKILL', 0));
  return tracked;
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export async function runToEnd(
  run: DrillRun,
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const child = spawnChild(run, name, command, args, env);
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${name} exited ${code ?? signal}: ${tail(child.output())}`);
  return child.output();
}

export function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Live processes in process group `pgid` (Linux /proc): the worker and what it started. */
export async function groupProcesses(pgid: number): Promise<Array<{ pid: number; command: string }>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    // "pid (comm) state ppid pgrp …"; a zombie (Z) is already dead.
    const [state, , pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z')
      found.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return found;
}
