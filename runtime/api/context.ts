/** What the API's routes need: config, the database pools, the queue and its Redis, metrics, storage. */
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Database } from '../db/pool.js';
import type { ProcessMetrics } from '../metrics/registry.js';
import type { RedisClient } from '../queue/connection.js';
import type { VideoQueue } from '../queue/video-queue.js';
import type { S3Storage } from '../storage/s3-storage.js';

export interface ApiContext {
  config: Config;
  db: Database;
  redis: RedisClient;
  queue: VideoQueue;
  metrics: ProcessMetrics;
  log: Logger;
  /** The bucket videos are published to, when storage is S3 (downloads redirect there). */
  s3?: S3Storage;
}
