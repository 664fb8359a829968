/**
 * GET /v1/videos/:id/file (MP4, with Range) and /v1/videos/:id/captions (WebVTT), from local
 * storage: join(STORAGE_DIR, 'videos', <id>.mp4|.vtt), where the publish stage writes them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { caller } from '../../security/auth.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../errors.js';
import { parseRange } from '../range.js';
import { ErrorBody, VideoIdParams } from '../schemas.js';
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
    { route: 'file', ext: 'mp4', type: 'video/mp4', name: 'video' },
    { route: 'captions', ext: 'vtt', type: 'text/vtt; charset=utf-8', name: 'captions file' },
  ] as const;
  for (const file of files) {
    app.get(
      `/v1/videos/:id/${file.route}`,
      {
        schema: {
          summary: `The ${file.name} (${file.type}) from local storage${file.ext === 'mp4' ? ', with Range support' : ''}`,
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
        const path = join(ctx.config.storageDir, 'videos', `${video.id}.${file.ext}`);
        return serve(reply, path, file.type, request.headers.range, file.name);
      },
    );
  }
}
