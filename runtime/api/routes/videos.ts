/** /v1/videos: submit, read, list and cancel videos. */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { cancelVideo, createVideo, failVideo, getVideoWithStages, listVideos } from '../../db/videos.js';
import type { VideoWithStages } from '../../db/videos.js';
import { enqueueVideo, publishCancel, removeQueuedJob } from '../../queue/video-queue.js';
import { caller } from '../../security/auth.js';
import type { VideoSpec } from '../../pipeline/stage.js';
import { VIDEO_DEFAULTS } from '../../pipeline/stage.js';
import type { ApiContext } from '../context.js';
import { HttpError } from '../../http-error.js';
import {
  CreateVideoBody,
  ErrorBody,
  ListVideosQuery,
  VideoIdParams,
  VideoList,
  VideoView,
} from '../schemas.js';
import { toVideoView } from '../view.js';

const security = [{ bearerAuth: [] }];

/** Reads from the replica, falling back to the primary for a video the replica has not seen yet. */
export async function findVideo(ctx: ApiContext, id: string, apiKeyId: string): Promise<VideoWithStages> {
  const video =
    (await getVideoWithStages(ctx.db.reader(), id, apiKeyId)) ??
    (ctx.db.replicas.length > 0 ? await getVideoWithStages(ctx.db.primary, id, apiKeyId) : undefined);
  if (!video) throw new HttpError(404, `no video ${id}`);
  return video;
}

const view = (video: VideoWithStages) => toVideoView(video, video.stages);

/**
 * The request an idempotency key stands for: every field of the spec with its default filled in
 * (omitting a default and sending it are the same request), the seed only when the caller chose
 * one, keys in a fixed order. Its sha256 is stored with the video.
 */
function requestFingerprint(spec: VideoSpec, seedGiven: boolean): string {
  const normalised = {
    topic: spec.topic,
    durationSeconds: spec.durationSeconds,
    aspect: spec.aspect,
    resolution: spec.resolution,
    voice: spec.voice,
    style: spec.style,
    burnCaptions: spec.burnCaptions,
    seed: seedGiven ? spec.seed : null,
  };
  return createHash('sha256').update(JSON.stringify(normalised)).digest('hex');
}

export async function videoRoutes(scope: FastifyInstance, ctx: ApiContext): Promise<void> {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/videos',
    {
      schema: {
        summary: 'Request a video',
        tags: ['videos'],
        security,
        body: CreateVideoBody,
        response: { 200: VideoView, 202: VideoView, '4xx': ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const key = caller(request);
      const body = request.body;
      const id = randomUUID();
      // The validator has filled in every default (VIDEO_DEFAULTS, through the schema).
      const { idempotencyKey, seed, ...asked } = body;
      const spec: VideoSpec = {
        ...VIDEO_DEFAULTS,
        ...asked,
        seed: seed ?? id.replace(/-/g, '').slice(0, 16),
      };
      const fingerprint = requestFingerprint(spec, seed !== undefined);
      const { video, created, storedFingerprint } = await createVideo(ctx.db.primary, {
        id,
        apiKeyId: key.id,
        ...(idempotencyKey ? { idempotencyKey } : {}),
        spec,
        requestFingerprint: fingerprint,
      });
      // As the IETF Idempotency-Key draft says: a key reused with another request is a 422.
      if (!created && storedFingerprint && storedFingerprint !== fingerprint)
        throw new HttpError(
          422,
          `idempotencyKey ${JSON.stringify(idempotencyKey)} was already used for a different request ` +
            `(video ${video.id}); send the same request to get that video, or use a new key`,
        );
      if (created || video.status === 'queued') {
        try {
          // For a replay this repairs a first attempt whose enqueue failed; BullMQ ignores a duplicate id.
          await enqueueVideo(ctx.queue, video.id);
        } catch (error) {
          request.log.error({ err: error, videoId: video.id }, 'could not queue the video');
          // With an idempotencyKey the row stays queued: the caller's replay queues it (above).
          // Without one nothing could ever queue it again, so it must not stay queued forever.
          if (created && !idempotencyKey)
            await failVideo(ctx.db.primary, video.id, {
              stage: null,
              message: 'could not be queued',
            }).catch((e: unknown) =>
              request.log.error({ err: e, videoId: video.id }, 'could not fail the video'),
            );
          throw new HttpError(
            503,
            idempotencyKey
              ? 'the queue is unavailable; retry later with the same idempotencyKey'
              : 'the queue is unavailable; retry later',
          );
        }
      }
      if (created) ctx.metrics.metrics.videosSubmitted.inc();
      request.log.info({ videoId: video.id, created }, created ? 'video queued' : 'idempotent replay');
      reply.header('Location', `/v1/videos/${video.id}`);
      if (!created) reply.header('Idempotent-Replayed', 'true');
      // A new video has no stages yet: skip the read.
      const stages = created ? [] : ((await getVideoWithStages(ctx.db.primary, video.id))?.stages ?? []);
      return reply.code(created ? 202 : 200).send(toVideoView(video, stages));
    },
  );

  app.get(
    '/v1/videos/:id',
    {
      schema: {
        summary: 'A video: status, stage, progress, stage timings, cost, output URL, error',
        tags: ['videos'],
        security,
        params: VideoIdParams,
        response: { 200: VideoView, '4xx': ErrorBody },
      },
    },
    async (request) => {
      return view(await findVideo(ctx, request.params.id, caller(request).id));
    },
  );

  app.get(
    '/v1/videos',
    {
      schema: {
        summary: "The caller's videos, newest first",
        tags: ['videos'],
        security,
        querystring: ListVideosQuery,
        response: { 200: VideoList, '4xx': ErrorBody },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 20;
      const rows = await listVideos(ctx.db.reader(), {
        apiKeyId: caller(request).id,
        limit: limit + 1,
        ...(request.query.status ? { status: request.query.status } : {}),
        ...(request.query.cursor ? { afterId: request.query.cursor } : {}),
      });
      const page = rows.slice(0, limit);
      return {
        items: page.map(view),
        nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },
  );

  app.delete(
    '/v1/videos/:id',
    {
      schema: {
        summary: 'Cancel a video: a queued one never starts, a running one is stopped',
        tags: ['videos'],
        security,
        params: VideoIdParams,
        response: { 200: VideoView, '4xx': ErrorBody },
      },
    },
    async (request) => {
      const key = caller(request);
      const id = request.params.id;
      const result = await cancelVideo(ctx.db.primary, id, key.id);
      if (!result) throw new HttpError(404, `no video ${id}`);
      if (!result.cancelled) throw new HttpError(409, `video ${id} is already ${result.previous}`);
      // Remove it if it has not started; tell the workers in any case (it may have just started).
      await removeQueuedJob(ctx.queue, id).catch((error: unknown) =>
        request.log.warn({ err: error, videoId: id }, 'could not remove the queued job'),
      );
      await publishCancel(ctx.redis, ctx.config.queue.prefix, id).catch((error: unknown) =>
        request.log.warn({ err: error, videoId: id }, 'could not publish the cancel'),
      );
      request.log.info({ videoId: id, previous: result.previous }, 'video cancelled');
      return view((await getVideoWithStages(ctx.db.primary, id))!);
    },
  );
}
