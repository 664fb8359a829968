/**
 * Work directories under WORK_DIR: who owns one, and sweeping those nobody alive owns.
 *
 * A worker claims a job's directory by writing `.owner` in it (pid, host, and the process's start
 * time from /proc, so a pid reused by a restarted container on the same emptyDir is not mistaken
 * for the old owner). WORK_DIR can be shared by worker processes on one machine (tests, the demo,
 * two workers on a laptop); in the stacks it is an emptyDir per pod. So a sweep removes a
 * directory only when nothing alive can be using it:
 *
 * - an owner on this host whose process is gone (or whose pid now names another process): removed;
 * - an owner that is alive (this process or another on this host): kept;
 * - no owner file, or an owner on another host (a volume shared between machines, whose processes
 *   cannot be checked): removed only when nothing in it changed for longer than `staleAfterMs`
 *   (JOB_TIMEOUT_SECONDS). An attempt writes its directory when it starts and runs at most that
 *   long, so a directory untouched for longer has no live attempt.
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

/** Whether a process that may be using the directory is alive (this process counts). */
export async function inUse(dir: string, staleAfterMs: number): Promise<boolean> {
  const found = await owners(dir);
  const states = found.map(liveness);
  if (states.includes('alive')) return true;
  if (found.length > 0 && states.every((s) => s === 'dead')) return false;
  return Date.now() - (await newestChange(dir)) <= staleAfterMs;
}

/**
 * Removes the directory unless another live process may be using it (a job this process ran
 * earlier, now cancelled or given up, is removed). False when it was kept or was not there.
 */
export async function removeUnlessInUse(dir: string, options: { running: boolean }): Promise<boolean> {
  if (options.running) return false;
  const found = await owners(dir);
  if (found.length === 0 && !(await stat(dir).catch(() => undefined))) return false;
  const othersAlive = found.some(
    (o) => !(o.pid === self.pid && o.host === self.host) && liveness(o) === 'alive',
  );
  if (othersAlive) return false;
  await rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * Removes what a killed worker left under `root`: every entry no live process can be using.
 * Returns the names removed. Run at worker start, before the first job.
 */
export async function sweepWorkDirs(
  root: string,
  options: { staleAfterMs: number; log?: Logger },
): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    const path = join(root, entry.name);
    try {
      if (entry.isDirectory() ? await inUse(path, options.staleAfterMs) : await fresh(path, options))
        continue;
      await rm(path, { recursive: true, force: true });
      removed.push(entry.name);
    } catch (error) {
      options.log?.warn({ err: error, path }, 'could not sweep a work directory');
    }
  }
  if (removed.length > 0) options.log?.info({ removed }, 'swept work directories left by a stopped worker');
  return removed;
}

async function fresh(path: string, options: { staleAfterMs: number }): Promise<boolean> {
  return Date.now() - (await newestChange(path)) <= options.staleAfterMs;
}
