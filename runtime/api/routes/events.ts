/**
 * GET /v1/videos/:id/events: Server-Sent Events. A stream starts with the video as Postgres has it,
 * then follows the process's one VideoEventHub (BullMQ QueueEvents, fanned out; no per-stream
 * polling), sending `stage` when the stage changes, `progress` when the progress does, `status`
 * when the status does — until a final status, then `end` and the stream ends. One API key may
 * hold EVENT_STREAMS_PER_KEY_MAX streams open on a process; past it, 429.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { FINAL_STATUSES } from '../../pipeline/stage.js';
import type { VideoWithStages } from '../../db/videos.js';
import { caller } from '../../security/auth.js';
import type { ApiContext } from '../context.js';
import { sendError } from '../errors.js';
import { ErrorBody, VideoIdParams } from '../schemas.js';
import { VideoEventHub } from '../video-events.js';
import { toVideoView } from '../view.js';
import { findVideo } from './videos.js';

const HEARTBEAT_MS = 15_000;

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function eventRoutes(scope: FastifyInstance, ctx: ApiContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  // A hijacked stream is not closed by fastify: without this, app.close() would wait for every
  // watched video to finish. Clients reconnect (EventSource does) to another replica.
  const open = new Set<() => void>();
  const hub = new VideoEventHub({ config: ctx.config, db: ctx.db, log: ctx.log });
  const perKey = new Map<string, number>();
  const max = ctx.config.eventStreamsPerKeyMax;
  scope.addHook('preClose', async () => {
    for (const stop of open) stop();
  });
  scope.addHook('onClose', async () => {
    await hub.close();
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
      const holding = perKey.get(apiKeyId) ?? 0;
      if (holding >= max)
        return sendError(
          request,
          reply,
          429,
          `this API key already has ${holding} event streams open; at most ${max} (EVENT_STREAMS_PER_KEY_MAX) at once: close one first`,
        );
      perKey.set(apiKeyId, holding + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const n = (perKey.get(apiKeyId) ?? 1) - 1;
        if (n > 0) perKey.set(apiKeyId, n);
        else perKey.delete(apiKeyId);
      };

      let video: VideoWithStages;
      try {
        video = await findVideo(ctx, request.params.id, apiKeyId);
      } catch (error) {
        release();
        throw error;
      }

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
      const write = (chunk: string) => {
        if (closed) return;
        raw.write(chunk);
      };
      const state = (v: VideoWithStages) => ({
        status: v.status,
        stage: v.currentStage,
        progress: v.progress,
      });

      const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
      let unwatch = () => {};
      const finish = () => {
        open.delete(stop);
        closed = true;
        clearInterval(heartbeat);
        unwatch();
        release();
      };
      const stop = () => {
        if (closed) return finish();
        finish();
        raw.end();
      };
      open.add(stop);
      raw.on('close', finish);

      const emit = (next: VideoWithStages) => {
        if (closed) return;
        video = next;
        if (!last || last.status !== video.status) write(frame('status', state(video)));
        if (!last || last.currentStage !== video.currentStage) write(frame('stage', state(video)));
        if (!last || last.progress !== video.progress) write(frame('progress', state(video)));
        last = video;
        if (FINAL_STATUSES.includes(video.status)) {
          write(frame('end', toVideoView(video, video.stages)));
          stop();
        }
      };

      emit(video);
      if (!closed) unwatch = hub.watch(video, emit);
    },
  );
}
