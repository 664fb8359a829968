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

/** ioredis' dnsLookup that hands the hostname through unchanged. */
const CONNECT_BY_HOSTNAME = (address: string, callback: (err: null, address: string) => void): void =>
  callback(null, address);

/** How long a cluster client waits for CLUSTER SLOTS before it tries another node. */
export const SLOTS_REFRESH_TIMEOUT_MS = 5000;

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
      // Over TLS the nodes announce hostnames (ElastiCache does) and their certificates name those
      // hosts: connect by name, since a looked-up IP would fail the certificate's hostname check.
      ...(config.tls ? { dnsLookup: CONNECT_BY_HOSTNAME } : {}),
      // The default 1 s is less than a TLS handshake plus AUTH on a busy node can take, and a
      // timed-out CLUSTER SLOTS leaves the client without slots (never ready).
      slotsRefreshTimeout: SLOTS_REFRESH_TIMEOUT_MS,
    } as ConstructorParameters<typeof Cluster>[1]);
    // BullMQ duplicates this client for its blocking connections; ioredis' Cluster.duplicate()
    // copies these options, so those connections keep them too.
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
