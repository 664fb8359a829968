import { LocalStorage } from './local-storage.js';
import { S3Storage } from './s3-storage.js';
import type { StorageOptions, VideoStorage } from './storage.js';

export function createStorage(options: StorageOptions): VideoStorage {
  return 's3' in options ? new S3Storage(options.s3) : new LocalStorage(options);
}
