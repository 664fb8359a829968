/**
 * Work directories under WORK_DIR: who owns one, and sweeping those nobody alive owns.
 *
 * A worker claims a job's directory by writing `.owner` in it (pid, host, and the process's start
 * time from /proc, so a pid reused by a restarted container on the same emptyDir is not mistaken
 * for the old owner). WORK_DIR can be shared by worker processes on one machine (tests, the demo,
 * two workers on a laptop); in the stacks it is an emptyDir per pod. So a sweep removes a
 * directory only when nothing alive can be using it:
 *
 * - an owner that is another live process on this host: kept;
 * - this process: kept while its video is queued or running (a job running here, or waiting out a
 *   retry's backoff), removed once the video is over (it finished elsewhere, or was cancelled);
 * - an owner on this host whose process is gone (or whose pid now names another process): removed,
 *   unless its video is still queued or running (`isActive`, from Postgres) and the directory
 *   changed within `staleAfterMs`: the job comes back after its lock expires, and a worker on this
 *   machine resumes it from the stages that directory holds;
 * - no owner file, or an owner on another host (a volume shared between machines, whose processes
 *   cannot be checked): removed only when nothing in it changed for longer than `staleAfterMs`
 *   (JOB_TIMEOUT_SECONDS). An attempt writes its directory when it starts and runs at most that
 *   long, so a directory untouched for longer has no live attempt.
 *
 * The sweep runs when a worker starts, before its first job, and again every interval: a
 * directory kept for a resume that happened elsewhere goes once it is stale.
 *
 * Owner files are looked for in the directory and one level below it, so a layout with a
 * directory per attempt inside the video's directory is swept by the same rule.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const OWNER_FILE = '.owner';

export interface WorkDirOwner {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat); absent off Linux. */
  started?: string;
}

/** Start time of a process as /proc reports it; undefined when there is no /proc or no such process. */
function processStarted(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) is in parentheses and may hold spaces; field 22 is the start time.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const self: WorkDirOwner = {
  pid: process.pid,
  host: hostname(),
  ...(processStarted(process.pid) ? { started: processStarted(process.pid) as string } : {}),
};

/** Creates the directory (if needed) and records this process as its owner. */
export async function claimWorkDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, OWNER_FILE), JSON.stringify(self));
}

type Liveness = 'alive' | 'dead' | 'unknown';

function isSelf(owner: WorkDirOwner): boolean {
  return owner.pid === self.pid && owner.host === self.host && owner.started === self.started;
}

function liveness(owner: WorkDirOwner): Liveness {
  if (owner.host !== self.host || !Number.isInteger(owner.pid) || owner.pid <= 0) return 'unknown';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists, under another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  const started = processStarted(owner.pid);
  if (owner.started && started && started !== owner.started) return 'dead'; // the pid was reused
  return 'alive';
}

async function owners(dir: string): Promise<WorkDirOwner[]> {
  const read = async (file: string) => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as WorkDirOwner;
    } catch {
      return undefined;
    }
  };
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found = await Promise.all([
    read(join(dir, OWNER_FILE)),
    ...children.filter((c) => c.isDirectory()).map((c) => read(join(dir, c.name, OWNER_FILE))),
  ]);
  return found.filter((o) => o !== undefined);
}

/** The newest modification time of anything in the tree (the directory itself included). */
async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const children = await readdir(path).catch(() => [] as string[]);
  const times = await Promise.all(children.map((c) => newestChange(join(path, c))));
  return Math.max(info.mtimeMs, ...times);
}

export interface SweepOptions {
  /** JOB_TIMEOUT_SECONDS: no attempt leaves its directory untouched for longer. */
  staleAfterMs: number;
  /** Whether the video named by a directory is still queued or running (it may be resumed here). */
  isActive?: (name: string) => Promise<boolean>;
  log?: Logger;
}

/** Whether the directory may still be used: by a live process, or by a resume of its job. */
async function keep(dir: string, name: string, options: SweepOptions): Promise<boolean> {
  const found = await owners(dir);
  // Without an answer (Postgres unreachable) the video counts as active: keep rather than guess.
  const active = async () => (await options.isActive?.(name).catch(() => true)) ?? true;
  const others = found.filter((o) => !isSelf(o)).map(liveness);
  if (others.includes('alive')) return true;
  // Ours: a job running here or waiting out a retry's backoff, unless its video is over.
  if (found.some(isSelf)) return active();
  const fresh = Date.now() - (await newestChange(dir)) <= options.staleAfterMs;
  if (found.length > 0 && others.every((s) => s === 'dead')) return fresh && active();
  return fresh;
}

/**
 * Removes the directory unless another live process may be using it (a job this process ran
 * earlier, now cancelled or given up, is removed). False when it was kept or was not there.
 */
export async function removeUnlessInUse(dir: string, options: { running: boolean }): Promise<boolean> {
  if (options.running) return false;
  const found = await owners(dir);
  if (found.length === 0 && !(await stat(dir).catch(() => undefined))) return false;
  const othersAlive = found.some((o) => !isSelf(o) && liveness(o) === 'alive');
  if (othersAlive) return false;
  await rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * Removes what a killed worker left under `root`: every entry no live process or resumable job can
 * be using. Returns the names removed.
 */
export async function sweepWorkDirs(root: string, options: SweepOptions): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    const path = join(root, entry.name);
    try {
      const kept = entry.isDirectory()
        ? await keep(path, entry.name, options)
        : Date.now() - (await newestChange(path)) <= options.staleAfterMs;
      if (kept) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(entry.name);
    } catch (error) {
      options.log?.warn({ err: error, path }, 'could not sweep a work directory');
    }
  }
  if (removed.length > 0) options.log?.info({ removed }, 'swept work directories nothing uses');
  return removed;
}

/** Sweeps now (awaited: before the first job), then every `intervalMs` until stopped. */
export async function startWorkDirSweeper(
  root: string,
  options: SweepOptions & { intervalMs: number },
): Promise<{ stop(): Promise<void> }> {
  let running = sweepWorkDirs(root, options);
  await running;
  const timer = setInterval(() => {
    running = running.then(() => sweepWorkDirs(root, options));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
