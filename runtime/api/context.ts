/** What the API's routes need: config, the database pools, the queue and its Redis, metrics. */
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Database } from '../db/pool.js';
import type { ProcessMetrics } from '../metrics/registry.js';
import type { RedisClient } from '../queue/connection.js';
import type { VideoQueue } from '../queue/video-queue.js';

export interface ApiContext {
  config: Config;
  db: Database;
  redis: RedisClient;
  queue: VideoQueue;
  metrics: ProcessMetrics;
  log: Logger;
}
