/**
 * s3rver, the S3-compatible server the drills and the tests run on loopback: started with its
 * buckets, answering at `endpoint` (path-style), stopped by close(). It ships no types.
 */
import { createRequire } from 'node:module';

interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (
  options: Record<string, unknown>,
) => S3rverServer;

/** The credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface RunningS3rver {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export async function startS3rver(options: {
  directory: string;
  buckets?: readonly string[];
  /** 0 (the default): a free port. */
  port?: number;
}): Promise<RunningS3rver> {
  const server = new S3rver({
    port: options.port ?? 0,
    address: '127.0.0.1',
    silent: true,
    directory: options.directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, port, close: () => server.close() };
}
