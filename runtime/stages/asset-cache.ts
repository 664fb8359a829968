/**
 * Rendered assets shared between videos (background loops, ambient beds, narration lines), keyed
 * by everything that decides their content. An asset is rendered into a temporary name and renamed
 * into place, so a reader never sees half a file, and two workers rendering the same asset at once
 * both end with a whole one.
 *
 * - Within one process, concurrent requests for the same asset share one render. The render runs
 *   under its own AbortController: a caller whose signal fires stops waiting at once, and the
 *   render is stopped only when every caller waiting on it has gone.
 * - The cache holds at most `maxBytes`: after each new entry, the least recently used entries are
 *   evicted (a hit or a copy-out touches the entry's mtime; atime is unreliable under noatime).
 * - An entry in use is never evicted. A caller names a `holder` (the job's work directory) and the
 *   entry is pinned for as long as that directory exists: a job's directory lives from its first
 *   stage to its end (success, final failure, cancel) and a dead worker's is swept at start, so a
 *   pin cannot outlive its job for long. Pins are files under `.pins/`, so they hold for every
 *   process sharing the directory. The evictor renames an entry aside before it reads the pins,
 *   and a user writes its pin before it looks for the entry: either the evictor sees the pin and
 *   puts the entry back, or the user finds the entry gone and renders it again.
 */
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { stableHash } from './seeded-random.js';

export interface CachedAsset {
  path: string;
  /** True when the asset was already there; false when this call rendered it (or joined a render). */
  hit: boolean;
}

export interface AssetCacheOptions {
  /** Evict least-recently-used entries above this many bytes (default: no limit). */
  maxBytes?: number;
}

export interface UseOptions {
  /** The caller's signal: when it fires the caller stops waiting (the shared render goes on for others). */
  signal?: AbortSignal;
  /** Pins the entry while this directory exists (the job's work directory). */
  holder?: string;
}

/** Renders the asset into `target`; `signal` fires when nobody waits for it any more. */
export type RenderAsset = (target: string, signal: AbortSignal) => Promise<unknown>;

interface SharedRender {
  done: Promise<void>;
  controller: AbortController;
  waiters: number;
}

const PINS = '.pins';
/** A partial render untouched this long belongs to a dead process (ffmpeg writes every second or so). */
const STALE_PART_MS = 60 * 60 * 1000;

export class AssetCache {
  private readonly pending = new Map<string, SharedRender>();
  private evicting: Promise<void> = Promise.resolve();
  readonly maxBytes: number;

  constructor(
    readonly dir: string,
    options: AssetCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  pathFor(kind: string, key: unknown, extension: string): string {
    return join(this.dir, `${kind}-${stableHash({ kind, key })}.${extension}`);
  }

  async getOrCreate(
    kind: string,
    key: unknown,
    extension: string,
    render: RenderAsset,
    options: UseOptions = {},
  ): Promise<CachedAsset> {
    const { signal, holder } = options;
    signal?.throwIfAborted();
    const path = this.pathFor(kind, key, extension);
    if (holder) await this.pin(path, holder);
    try {
      if (await touch(path)) {
        // Renders collect pins of finished jobs when they evict; a run of hits does it here.
        if (holder) this.pinned().catch(() => {});
        return { path, hit: true };
      }
      let shared = this.pending.get(path);
      if (!shared) {
        const controller = new AbortController();
        const created: SharedRender = {
          controller,
          waiters: 0,
          done: this.create(path, render, controller.signal).finally(() => {
            if (this.pending.get(path) === created) this.pending.delete(path);
          }),
        };
        created.done.catch(() => {});
        this.pending.set(path, created);
        shared = created;
      }
      await this.wait(path, shared, signal);
      return { path, hit: false };
    } catch (error) {
      if (holder) await this.unpin(path, holder);
      throw error;
    }
  }

  /** Whether the asset is there (whole: assets only ever appear by rename). */
  has(kind: string, key: unknown, extension: string): Promise<boolean> {
    return nonEmpty(this.pathFor(kind, key, extension));
  }

  /**
   * Copies the asset to `target` and counts it as used; false when it is not there (never was, or
   * was evicted meanwhile: an open file survives its eviction, so a copy is whole or fails).
   */
  async copyOut(kind: string, key: unknown, extension: string, target: string): Promise<boolean> {
    const path = this.pathFor(kind, key, extension);
    if (!(await touch(path))) return false;
    try {
      await copyFile(path, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Stores a copy of a file made elsewhere as the asset, unless the asset is already there. */
  async adopt(kind: string, key: unknown, extension: string, file: string): Promise<CachedAsset> {
    return this.getOrCreate(kind, key, extension, (target) => copyFile(file, target));
  }

  /** Bytes the cache holds now (whole entries and partial renders). */
  async size(): Promise<number> {
    const { entries, parts } = await this.list();
    return [...entries, ...parts].reduce((sum, e) => sum + e.bytes, 0);
  }

  /** Evicts least-recently-used, unpinned entries until the cache fits `maxBytes`. */
  evict(): Promise<void> {
    const run = this.evicting.then(() => this.evictNow());
    this.evicting = run.catch(() => {});
    return run;
  }

  private async wait(path: string, shared: SharedRender, signal: AbortSignal | undefined): Promise<void> {
    shared.waiters++;
    let onAbort: (() => void) | undefined;
    const left = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => {
        shared.waiters--;
        if (shared.waiters === 0) {
          // Nobody waits any more: stop the render, and let the next caller start a fresh one.
          if (this.pending.get(path) === shared) this.pending.delete(path);
          shared.controller.abort(signal.reason);
        }
        reject(signal.reason as Error);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([shared.done, left]);
      shared.waiters--;
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private async create(path: string, render: RenderAsset, signal: AbortSignal): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const extension = extname(path);
    // The extension stays last: ffmpeg picks the container from it.
    const temporary = `${path.slice(0, -extension.length)}.part-${randomBytes(4).toString('hex')}${extension}`;
    try {
      await render(temporary, signal);
      signal.throwIfAborted();
      await rename(temporary, path);
    } finally {
      await rm(temporary, { force: true });
    }
    // A failed eviction leaves the cache over its cap for now; it must not fail the render.
    await this.evict().catch(() => {});
  }

  private pinFile(path: string, holder: string): string {
    const id = createHash('sha256').update(holder).digest('hex').slice(0, 16);
    return join(this.dir, PINS, `${basename(path)}@${id}`);
  }

  private async pin(path: string, holder: string): Promise<void> {
    await mkdir(join(this.dir, PINS), { recursive: true });
    // Written aside and renamed: a reader never sees a pin without its holder.
    const temporary = join(this.dir, PINS, `.part-${randomBytes(4).toString('hex')}`);
    await writeFile(temporary, holder);
    await rename(temporary, this.pinFile(path, holder));
  }

  private async unpin(path: string, holder: string): Promise<void> {
    await rm(this.pinFile(path, holder), { force: true });
  }

  /** Entry names with a pin whose holder still exists; pins of holders that are gone are removed. */
  private async pinned(): Promise<Set<string>> {
    const names = await readdir(join(this.dir, PINS)).catch(() => [] as string[]);
    const live = new Set<string>();
    await Promise.all(
      names
        .filter((name) => !name.startsWith('.'))
        .map(async (name) => {
          const file = join(this.dir, PINS, name);
          const holder = await readFile(file, 'utf8').catch(() => undefined);
          if (holder === undefined) return;
          if (await exists(holder)) live.add(name.slice(0, name.lastIndexOf('@')));
          else await rm(file, { force: true });
        }),
    );
    return live;
  }

  private async list(): Promise<{
    entries: Array<{ name: string; bytes: number; usedMs: number }>;
    parts: Array<{ name: string; bytes: number; usedMs: number }>;
  }> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    // An entry set aside by an evictor that died before removing it (rename updates ctime).
    await Promise.all(
      names
        .filter((name) => name.startsWith('.evicted-'))
        .map(async (name) => {
          const info = await stat(join(this.dir, name)).catch(() => undefined);
          if (info && Date.now() - info.ctimeMs > 60_000) await rm(join(this.dir, name), { force: true });
        }),
    );
    const found = await Promise.all(
      names
        .filter((name) => !name.startsWith('.'))
        .map(async (name) => {
          const info = await stat(join(this.dir, name)).catch(() => undefined);
          return info?.isFile() ? { name, bytes: info.size, usedMs: info.mtimeMs } : undefined;
        }),
    );
    const files = found.filter((f) => f !== undefined);
    return {
      entries: files.filter((f) => !f.name.includes('.part-')),
      parts: files.filter((f) => f.name.includes('.part-')),
    };
  }

  private async evictNow(): Promise<void> {
    const { entries, parts } = await this.list();
    let total = 0;
    for (const part of parts) {
      if (Date.now() - part.usedMs > STALE_PART_MS) await rm(join(this.dir, part.name), { force: true });
      else total += part.bytes;
    }
    total += entries.reduce((sum, e) => sum + e.bytes, 0);
    const pinned = await this.pinned(); // also removes the pins of finished jobs
    if (total <= this.maxBytes) return;
    entries.sort((a, b) => a.usedMs - b.usedMs || a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      if (pinned.has(entry.name)) continue;
      if (await this.remove(entry.name)) total -= entry.bytes;
    }
  }

  /** Renames the entry aside, then removes it unless a pin appeared meanwhile (then it goes back). */
  private async remove(name: string): Promise<boolean> {
    const path = join(this.dir, name);
    const aside = join(this.dir, `.evicted-${randomBytes(4).toString('hex')}-${name}`);
    try {
      await rename(path, aside);
    } catch {
      return false; // gone already (another process evicted it)
    }
    if ((await this.pinned()).has(name)) {
      await rename(aside, path);
      return false;
    }
    await rm(aside, { force: true });
    return true;
  }
}

/** Marks the entry used now; false when it is not there. */
async function touch(path: string): Promise<boolean> {
  if (!(await nonEmpty(path))) return false;
  const now = new Date();
  try {
    await utimes(path, now, now);
    return true;
  } catch {
    return false;
  }
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
