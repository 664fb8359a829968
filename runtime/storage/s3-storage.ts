/**
 * S3 storage behind a CDN. An object carries its SHA-256 in its metadata, so a retried publish
 * finds the identical object with one HEAD request and does not upload it again.
 */
import { createReadStream } from 'node:fs';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { ObjectRole, PutRequest, S3StorageOptions, VideoStorage } from './storage.js';
import { trimSlash } from './storage.js';

export class S3Storage implements VideoStorage {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly options: S3StorageOptions) {
    this.client = new S3Client({
      region: options.region,
      // S3-compatible servers (MinIO, s3rver) do not all take the SDK's default streamed checksums.
      ...(options.endpoint
        ? { endpoint: options.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED' as const }
        : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  }

  async put(request: PutRequest): Promise<{ uploaded: boolean }> {
    const existing = await this.head(request.key);
    if (existing && existing.bytes === request.bytes && existing.sha256 === request.sha256)
      return { uploaded: false };
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: request.key,
        Body: createReadStream(request.file),
        ContentLength: request.bytes,
        ContentType: request.contentType,
        // Keys hold a video id, so an object never changes: the CDN may keep it for good.
        CacheControl: 'public, max-age=31536000, immutable',
        Metadata: { sha256: request.sha256 },
      }),
    );
    return { uploaded: true };
  }

  private async head(key: string): Promise<{ bytes: number; sha256: string | undefined } | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return { bytes: head.ContentLength ?? -1, sha256: head.Metadata?.sha256 };
    } catch (error) {
      if (error instanceof NotFound) return undefined;
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  publicUrl(key: string, _videoId: string, _role: ObjectRole): string {
    return `${trimSlash(this.options.cdnBaseUrl)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * A GET URL for the object signed with the client's credentials (SigV4 query parameters), valid
   * for `expiresInSeconds`: for a private bucket with no CDN in front. It is what
   * @aws-sdk/s3-request-presigner's getSignedUrl does: the command's own middleware builds the
   * request (endpoint, path style, region), and the client's signer presigns it instead of sending.
   */
  async presignedGetUrl(key: string, expiresInSeconds: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.options.bucket, Key: key });
    const stack = this.client.middlewareStack.clone();
    // S3's signer (SignatureV4MultiRegion) presigns too; RequestSigner's type only names sign().
    const signer = (await this.client.config.signer()) as unknown as {
      presign(request: SignableRequest, options: { expiresIn: number }): Promise<SignableRequest>;
    };
    stack.addRelativeTo(
      (() => async (args: { request: unknown }) => {
        const request = args.request as SignableRequest;
        // The SDK's own bookkeeping, and the checksum headers its flexible-checksum middleware
        // adds: a URL handed to another client must ask S3 for nothing but the object.
        for (const header of Object.keys(request.headers))
          if (
            ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent'].includes(header) ||
            /^x-amz-(sdk-)?checksum-/.test(header)
          )
            delete request.headers[header];
        // S3 signs a presigned request's payload as UNSIGNED-PAYLOAD (the header goes to the query).
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        const presigned = await signer.presign(request, { expiresIn: expiresInSeconds });
        return { response: {}, output: { $metadata: {}, presigned } };
      }) as never,
      { name: 'archibaldPresign', relation: 'before', toMiddleware: 'httpSigningMiddleware', override: true },
    );
    const handler = command.resolveMiddleware(stack as never, this.client.config, {});
    const { output } = (await handler({ input: command.input } as never)) as unknown as {
      output: { presigned: SignableRequest };
    };
    return formatUrl(output.presigned);
  }

  destroy(): void {
    this.client.destroy();
  }
}

interface SignableRequest {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

/** The presigned request as a URL (its path is already URI-encoded by the SDK). */
function formatUrl(request: SignableRequest): string {
  const query = Object.entries(request.query)
    .flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) =>
        v === null ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(v)}`,
      ),
    )
    .join('&');
  const port = request.port ? `:${request.port}` : '';
  return `${request.protocol}//${request.hostname}${port}${request.path}${query ? `?${query}` : ''}`;
}
