/**
 * The "videos" BullMQ queue: one job per video, job id = video id, so publishing the same video
 * twice is a no-op. Cancel requests travel on a pub/sub channel to whichever worker runs the job.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config/load.js';
import { traceCarrier } from '../telemetry/spans.js';
import type { RedisClient } from './connection.js';

export const QUEUE_NAME = 'videos';

export interface VideoJobData {
  videoId: string;
  /** W3C trace context of the span that enqueued the job (absent when not tracing): the worker continues that trace. */
  trace?: Record<string, string>;
}

export type VideoQueue = Queue<VideoJobData>;

export function createVideoQueue(connection: RedisClient, config: Config['queue']): VideoQueue {
  return new Queue<VideoJobData>(QUEUE_NAME, {
    connection,
    prefix: config.prefix,
    defaultJobOptions: {
      attempts: config.attempts,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
}

/** Adds the video's job; adding a job id that exists is ignored by BullMQ, so this is idempotent. */
export async function enqueueVideo(queue: VideoQueue, videoId: string): Promise<void> {
  const trace = traceCarrier();
  await queue.add('render', { videoId, ...(trace ? { trace } : {}) }, { jobId: videoId });
}

/** Removes a job that has not started. False when it is running (or gone): the worker must be told. */
export async function removeQueuedJob(queue: VideoQueue, videoId: string): Promise<boolean> {
  const job = await queue.getJob(videoId);
  if (!job) return false;
  const state = await job.getState();
  if (!['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'].includes(state)) return false;
  try {
    await job.remove();
    return true;
  } catch {
    // Picked up between the state read and the removal: it is running now.
    return false;
  }
}

export function cancelChannel(prefix: string): string {
  return `${prefix}:videos:cancel`;
}

export async function publishCancel(publisher: RedisClient, prefix: string, videoId: string): Promise<void> {
  await publisher.publish(cancelChannel(prefix), videoId);
}
