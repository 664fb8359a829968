/**
 * Where published videos go. Both stores are idempotent: putting an object whose key already
 * holds the same bytes (same size and SHA-256) does not write it again.
 */
export type ObjectRole = 'video' | 'captions';

export interface PutRequest {
  key: string;
  /** Absolute path of the file to store. */
  file: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

export interface VideoStorage {
  readonly kind: 'local' | 's3';
  /** Stores the file under the key; `uploaded` is false when an identical object was already there. */
  put(request: PutRequest): Promise<{ uploaded: boolean }>;
  /** The public URL of a stored object. */
  publicUrl(key: string, videoId: string, role: ObjectRole): string;
}

export interface LocalStorageOptions {
  dir: string;
  /** Base of the API that serves the files, e.g. http://127.0.0.1:8080. */
  publicBaseUrl: string;
}

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Public base URL in front of the bucket (the CDN); object URLs are `<cdnBaseUrl>/<key>`. */
  cdnBaseUrl: string;
  /** Explicit credentials; absent means the SDK's default chain (env, web identity, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export type StorageOptions = LocalStorageOptions | { s3: S3StorageOptions };

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
