/**
 * Redis connections for the queue, the rate limit and the cancel channel: a single node from
 * REDIS_URL, or a Redis Cluster from REDIS_CLUSTER_NODES. A rotated password (file secret) is
 * applied to the client's options, so the next reconnect uses it.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Shows in CLIENT LIST. */
  name: string;
  /**
   * BullMQ workers and subscribers need `null` (retry forever, never fail a blocking command);
   * request-serving clients fail fast instead so an outage becomes an error response, not a hang.
   */
  maxRetriesPerRequest: number | null;
  log?: Logger;
}

/** How long a request-serving client waits for one command before it fails. */
export const REQUEST_COMMAND_TIMEOUT_MS = 3000;

export function createRedis(config: Config['redis'], options: RedisClientOptions): RedisClient {
  const base: RedisOptions = {
    connectionName: `archibald-${options.name}`,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    // Reconnect delays grow while Redis is down, so retries alone kept a request waiting 25 s.
    ...(options.maxRetriesPerRequest !== null ? { commandTimeout: REQUEST_COMMAND_TIMEOUT_MS } : {}),
    connectTimeout: 5000,
    ...(config.password ? { password: config.password.value() } : {}),
    ...(config.tls ? { tls: {} } : {}),
  };
  let client: RedisClient;
  if (config.clusterNodes) {
    client = new Cluster(config.clusterNodes, {
      redisOptions: base,
      // BullMQ reads these two from the top level for cluster clients.
      maxRetriesPerRequest: options.maxRetriesPerRequest,
      enableReadyCheck: true,
    } as ConstructorParameters<typeof Cluster>[1]);
  } else {
    client = new Redis(config.url, base);
  }
  const secret = config.password;
  if (secret) {
    const unsubscribe = secret.onChange((password) => {
      if (client instanceof Cluster) {
        if (client.options.redisOptions) client.options.redisOptions.password = password;
      } else {
        client.options.password = password;
      }
      options.log?.info({ source: secret.source }, 'redis password changed; used from the next connection');
    });
    client.once('end', unsubscribe);
  }
  // Without a listener an unreachable Redis would crash the process; ioredis keeps reconnecting.
  client.on('error', (error: Error) => options.log?.warn({ err: error, redis: options.name }, 'redis error'));
  return client;
}

export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
