/**
 * Rendered assets shared between videos (background loops, ambient beds), keyed by everything
 * that decides their content. An asset is rendered into a temporary name and renamed into place,
 * so a reader never sees half a file, and two workers rendering the same asset at once both end
 * with a whole one. Within one process, concurrent requests for the same asset share one render.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stableHash } from './seeded-random.js';

export interface CachedAsset {
  path: string;
  /** True when the asset was already there; false when this call rendered it. */
  hit: boolean;
}

export class AssetCache {
  private readonly pending = new Map<string, Promise<CachedAsset>>();

  constructor(readonly dir: string) {}

  pathFor(kind: string, key: unknown, extension: string): string {
    return join(this.dir, `${kind}-${stableHash({ kind, key })}.${extension}`);
  }

  async getOrCreate(
    kind: string,
    key: unknown,
    extension: string,
    render: (targetPath: string) => Promise<void>,
  ): Promise<CachedAsset> {
    const path = this.pathFor(kind, key, extension);
    if (await nonEmpty(path)) return { path, hit: true };
    const inFlight = this.pending.get(path);
    if (inFlight) return inFlight;
    const created = this.create(path, render).finally(() => this.pending.delete(path));
    this.pending.set(path, created);
    return created;
  }

  /** Whether the asset is there (whole: assets only ever appear by rename). */
  has(kind: string, key: unknown, extension: string): Promise<boolean> {
    return nonEmpty(this.pathFor(kind, key, extension));
  }

  /** Stores a copy of a file made elsewhere as the asset, unless the asset is already there. */
  async adopt(kind: string, key: unknown, extension: string, file: string): Promise<CachedAsset> {
    return this.getOrCreate(kind, key, extension, (target) => copyFile(file, target));
  }

  private async create(path: string, render: (targetPath: string) => Promise<void>): Promise<CachedAsset> {
    await mkdir(this.dir, { recursive: true });
    const extension = extname(path);
    // The extension stays last: ffmpeg picks the container from it.
    const temporary = `${path.slice(0, -extension.length)}.part-${randomBytes(4).toString('hex')}${extension}`;
    try {
      await render(temporary);
      await rename(temporary, path);
      return { path, hit: false };
    } finally {
      await rm(temporary, { force: true });
    }
  }
}

async function nonEmpty(path: string): Promise<boolean> {
  try {
    return (await stat(path)).size > 0;
  } catch {
    return false;
  }
}
