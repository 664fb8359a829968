/**
 * GET /v1/videos/:id/file (MP4, with Range) and /v1/videos/:id/captions (WebVTT). From local
 * storage they are served here: join(STORAGE_DIR, 'videos', <id>.mp4|.vtt), where the publish
 * stage writes them. With S3 storage the answer is a 302 to the object: its CDN URL when
 * CDN_BASE_URL is set, otherwise a presigned URL valid S3_PRESIGNED_URL_SECONDS (the bucket is
 * private). The key is checked by the caller's API key before the redirect; HTTP clients drop
 * the Authorization header on the cross-origin hop, and the Range header goes along.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { caller } from '../../security/auth.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../../http-error.js';
import { parseRange } from '../range.js';
import { ErrorBody, VideoIdParams } from '../schemas.js';
import { videoKeys } from '../../stages/publish.js';
import { findVideo } from './videos.js';

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

async function serve(
  reply: FastifyReply,
  path: string,
  contentType: string,
  rangeHeader: string | undefined,
  name: string,
) {
  const size = await fileSize(path);
  if (size === undefined) throw new HttpError(404, `the ${name} is not in local storage`);
  reply.header('Accept-Ranges', 'bytes').type(contentType);
  const range = parseRange(rangeHeader, size);
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${size}`);
    throw new HttpError(416, `range ${rangeHeader} is outside the ${size}-byte ${name}`);
  }
  if (range.kind === 'partial') {
    reply
      .code(206)
      .header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
      .header('Content-Length', range.end - range.start + 1);
    return reply.send(createReadStream(path, { start: range.start, end: range.end }));
  }
  reply.header('Content-Length', size);
  return reply.send(createReadStream(path));
}

export async function fileRoutes(scope: FastifyInstance, ctx: ApiContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const files = [
    { route: 'file', ext: 'mp4', type: 'video/mp4', name: 'video', role: 'video' },
    {
      route: 'captions',
      ext: 'vtt',
      type: 'text/vtt; charset=utf-8',
      name: 'captions file',
      role: 'captions',
    },
  ] as const;
  for (const file of files) {
    app.get(
      `/v1/videos/:id/${file.route}`,
      {
        schema: {
          summary: `The ${file.name} (${file.type})${file.ext === 'mp4' ? ', with Range support' : ''}`,
          description:
            'Served from local storage; with S3 storage, a 302 to the CDN URL or to a short-lived presigned URL.',
          tags: ['videos'],
          security: [{ bearerAuth: [] }],
          params: VideoIdParams,
          response: { '4xx': ErrorBody },
        },
      },
      async (request, reply) => {
        const video = await findVideo(ctx, request.params.id, caller(request).id);
        if (video.status !== 'completed')
          throw new HttpError(409, `video ${video.id} is ${video.status}, not completed`);
        if (ctx.s3 && ctx.config.s3) {
          const key = videoKeys(video.id)[file.role];
          const cdn = ctx.config.s3.cdnBaseUrl;
          const target = cdn
            ? ctx.s3.publicUrl(key, video.id, file.role)
            : await ctx.s3.presignedGetUrl(key, ctx.config.s3.presignedUrlSeconds);
          // A presigned URL expires, and either target is decided per caller: caches keep neither.
          return reply.header('Cache-Control', 'private, no-store').redirect(target, 302);
        }
        const path = join(ctx.config.storageDir, 'videos', `${video.id}.${file.ext}`);
        return serve(reply, path, file.type, request.headers.range, file.name);
      },
    );
  }
}
