/**
 * One subscriber per API process for every open event stream: a BullMQ `QueueEvents` reads the
 * queue's event stream (one blocking XREAD on a connection of its own) and fans each event out to
 * the streams watching that video, so the database load does not grow with the number of streams.
 *
 * - `progress` (the worker's `job.updateProgress({percent, stage})`, sent right after it wrote the
 *   same progress to Postgres) updates the watched state without a query.
 * - `active`, `completed`, `failed` re-read the video from the primary once per video (however many
 *   streams watch it): the worker writes the row before BullMQ moves the job, so the read sees it.
 * - `removed`: cancelling a queued video removes its job (after the row says `cancelled`), so the
 *   same re-read ends its streams at once.
 * - An event can be missed (Redis reconnecting, the moment between a stream's first read and its
 *   subscription, a removal that failed): a backstop re-reads every watched video in ONE query
 *   every `backstopMs`.
 */
import { QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Database } from '../db/pool.js';
import { getVideoWithStages, getVideosWithStages } from '../db/videos.js';
import type { VideoWithStages } from '../db/videos.js';
import { FINAL_STATUSES } from '../pipeline/stage.js';
import type { StageName } from '../pipeline/stage.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import type { RedisClient } from '../queue/connection.js';
import { QUEUE_NAME } from '../queue/video-queue.js';

export type VideoListener = (video: VideoWithStages) => void;

interface Watched {
  video: VideoWithStages;
  listeners: Set<VideoListener>;
  reading: boolean;
  readAgain: boolean;
}

export const EVENT_BACKSTOP_MS = 5000;

export class VideoEventHub {
  private readonly watched = new Map<string, Watched>();
  private readonly connection: RedisClient;
  private readonly events: QueueEvents;
  private readonly backstop: NodeJS.Timeout;
  private sweeping = false;
  private closed = false;

  constructor(private readonly options: { config: Config; db: Database; log: Logger; backstopMs?: number }) {
    const { config, log } = options;
    // A blocking XREAD needs a connection of its own, retrying forever (BullMQ refuses one that
    // gives up on a command, and the API's request client times commands out after 3 s).
    this.connection = createRedis(config.redis, { name: 'api-events', maxRetriesPerRequest: null, log });
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.connection, prefix: config.queue.prefix });
    this.events.on('error', (error) => log.warn({ err: error }, 'queue events error'));
    this.events.on('progress', ({ jobId, data }) => this.progress(jobId, data));
    this.events.on('active', ({ jobId }) => this.read(jobId));
    this.events.on('completed', ({ jobId }) => this.read(jobId));
    this.events.on('failed', ({ jobId }) => this.read(jobId));
    this.events.on('removed', ({ jobId }) => this.read(jobId));
    this.backstop = setInterval(() => void this.sweep(), options.backstopMs ?? EVENT_BACKSTOP_MS);
    this.backstop.unref();
  }

  /** Open streams being served (for logs and tests of this process). */
  get size(): number {
    let n = 0;
    for (const w of this.watched.values()) n += w.listeners.size;
    return n;
  }

  /**
   * Calls `listener` with the video each time it may have changed, starting from `current` (the
   * caller's own read). Returns the function that stops it.
   */
  watch(current: VideoWithStages, listener: VideoListener): () => void {
    let entry = this.watched.get(current.id);
    if (!entry) {
      entry = { video: current, listeners: new Set(), reading: false, readAgain: false };
      this.watched.set(current.id, entry);
    } else if (current.updatedAt > entry.video.updatedAt) {
      entry.video = current;
    }
    entry.listeners.add(listener);
    const watched = entry;
    return () => {
      watched.listeners.delete(listener);
      if (watched.listeners.size === 0 && this.watched.get(current.id) === watched)
        this.watched.delete(current.id);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.backstop);
    await this.events.close().catch(() => {});
    await closeRedis(this.connection);
  }

  private notify(entry: Watched): void {
    for (const listener of [...entry.listeners]) {
      try {
        listener(entry.video);
      } catch (error) {
        this.options.log.warn({ err: error, videoId: entry.video.id }, 'event stream listener failed');
      }
    }
  }

  private progress(videoId: string, data: unknown): void {
    const entry = this.watched.get(videoId);
    if (!entry || FINAL_STATUSES.includes(entry.video.status)) return;
    const { percent, stage } = (data ?? {}) as { percent?: unknown; stage?: unknown };
    if (typeof percent !== 'number') return;
    entry.video = {
      ...entry.video,
      status: 'running',
      progress: percent,
      ...(typeof stage === 'string' ? { currentStage: stage as StageName } : {}),
    };
    this.notify(entry);
  }

  /** Re-reads one watched video from the primary; reads asked for meanwhile become one more read. */
  private read(videoId: string): void {
    const entry = this.watched.get(videoId);
    if (!entry) return;
    if (entry.reading) {
      entry.readAgain = true;
      return;
    }
    entry.reading = true;
    void (async () => {
      try {
        do {
          entry.readAgain = false;
          const video = await getVideoWithStages(this.options.db.primary, videoId);
          if (video) {
            entry.video = video;
            this.notify(entry);
          }
        } while (entry.readAgain && !this.closed && entry.listeners.size > 0);
      } catch (error) {
        this.options.log.warn({ err: error, videoId }, 'event stream read failed; the backstop retries');
      } finally {
        entry.reading = false;
      }
    })();
  }

  /** The backstop: every watched video in one query. */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.closed || this.watched.size === 0) return;
    this.sweeping = true;
    try {
      const videos = await getVideosWithStages(this.options.db.reader(), [...this.watched.keys()]);
      for (const video of videos) {
        const entry = this.watched.get(video.id);
        // A replica behind the primary must not take a stream back in time.
        if (!entry || video.updatedAt < entry.video.updatedAt) continue;
        entry.video = video;
        this.notify(entry);
      }
    } catch (error) {
      this.options.log.warn({ err: error }, 'event stream backstop read failed');
    } finally {
      this.sweeping = false;
    }
  }
}
