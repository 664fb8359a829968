/**
 * GET /v1/videos/:id/events: Server-Sent Events. The video is re-read every half second (from the
 * replica) and each change goes out as an event — `stage` when the stage changes, `progress` when
 * the progress does, `status` when the status does — until a final status, then the stream ends.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { FINAL_STATUSES } from '../../db/videos.js';
import type { VideoWithStages } from '../../db/videos.js';
import { caller } from '../../security/auth.js';
import type { ApiContext } from '../context.js';
import { ErrorBody, VideoIdParams } from '../schemas.js';
import { toVideoView } from '../view.js';
import { findVideo } from './videos.js';

const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function eventRoutes(scope: FastifyInstance, ctx: ApiContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  // A hijacked stream is not closed by fastify: without this, app.close() would wait for every
  // watched video to finish. Clients reconnect (EventSource does) to another replica.
  const open = new Set<() => void>();
  scope.addHook('preClose', async () => {
    for (const stop of open) stop();
  });
  app.get(
    '/v1/videos/:id/events',
    {
      schema: {
        summary: 'Progress and stage changes as Server-Sent Events, until the video is final',
        description:
          'Events: `status`, `stage`, `progress` (data: {status, stage, progress}), and a final `end` ' +
          'with the whole video. Comment lines keep the connection alive.',
        tags: ['videos'],
        security: [{ bearerAuth: [] }],
        params: VideoIdParams,
        response: { 200: { description: 'text/event-stream', type: 'string' }, '4xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const apiKeyId = caller(request).id;
      let video: VideoWithStages = await findVideo(ctx, request.params.id, apiKeyId);

      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });

      let closed = false;
      let last: VideoWithStages | undefined;
      let lastWrite = Date.now();
      const write = (chunk: string) => {
        if (closed) return;
        raw.write(chunk);
        lastWrite = Date.now();
      };
      const state = (v: VideoWithStages) => ({
        status: v.status,
        stage: v.currentStage,
        progress: v.progress,
      });

      const stop = () => {
        open.delete(stop);
        if (closed) return;
        closed = true;
        clearInterval(timer);
        raw.end();
      };
      open.add(stop);
      raw.on('close', () => {
        open.delete(stop);
        closed = true;
        clearInterval(timer);
      });

      const emit = async () => {
        if (!last || last.status !== video.status) write(frame('status', state(video)));
        if (!last || last.currentStage !== video.currentStage) write(frame('stage', state(video)));
        if (!last || last.progress !== video.progress) write(frame('progress', state(video)));
        last = video;
        if (FINAL_STATUSES.includes(video.status)) {
          write(frame('end', toVideoView(video, video.stages)));
          stop();
        } else if (Date.now() - lastWrite >= HEARTBEAT_MS) {
          write(': keep-alive\n\n');
        }
      };

      let busy = false;
      const timer = setInterval(() => {
        if (busy || closed) return;
        busy = true;
        findVideo(ctx, video.id, apiKeyId)
          .then(async (next) => {
            video = next;
            await emit();
          })
          .catch((error: unknown) => {
            request.log.warn({ err: error, videoId: video.id }, 'event stream read failed');
            write(frame('error', { message: 'status temporarily unavailable' }));
          })
          .finally(() => {
            busy = false;
          });
      }, POLL_MS);
      await emit();
    },
  );
}
