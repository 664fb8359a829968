/**
 * Local directory storage: objects live at `join(dir, key)`, served by the API's file routes.
 * Files are written to a temporary name and renamed, so a reader never sees half a video.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256File } from './checksum.js';
import type { LocalStorageOptions, ObjectRole, PutRequest, VideoStorage } from './storage.js';
import { trimSlash } from './storage.js';

export class LocalStorage implements VideoStorage {
  readonly kind = 'local';
  private readonly root: string;

  constructor(private readonly options: LocalStorageOptions) {
    this.root = resolve(options.dir);
  }

  pathFor(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep))
      throw new Error(`storage key ${JSON.stringify(key)} leaves the storage directory`);
    return path;
  }

  async put(request: PutRequest): Promise<{ uploaded: boolean }> {
    const target = this.pathFor(request.key);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.size === request.bytes && (await sha256File(target)) === request.sha256)
      return { uploaded: false };
    await mkdir(dirname(target), { recursive: true });
    const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.part`);
    try {
      await copyFile(request.file, temporary);
      await rename(temporary, target);
    } finally {
      await rm(temporary, { force: true });
    }
    return { uploaded: true };
  }

  publicUrl(_key: string, videoId: string, role: ObjectRole): string {
    const base = `${trimSlash(this.options.publicBaseUrl)}/v1/videos/${encodeURIComponent(videoId)}`;
    return role === 'video' ? `${base}/file` : `${base}/captions`;
  }
}
