/**
 * A private Redis without persistence on a spare loopback port, as ElastiCache nodes (and the dev
 * StatefulSet's Redis) come back after a restart: `restartEmpty()` SIGKILLs it and starts a new,
 * empty server on the same port.
 */
import { spawnChild } from './children.js';
import type { Child } from './children.js';
import { DrillInputError, until } from './run.js';
import type { DrillRun } from './run.js';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PrivateRedis {
  url: string;
  port: number;
  restartEmpty(): Promise<void>;
  dbsize(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedis(run: DrillRun, port: number): Promise<PrivateRedis> {
  let child: Child | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return await client.dbsize();
    } finally {
      client.disconnect();
    }
  };
  if (!onPath('redis-server'))
    throw new DrillInputError('redis-server not found on PATH (install redis-server)');
  const start = async () => {
    child = spawnChild(run, 'redis-server', 'redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    await until(`redis-server on 127.0.0.1:${port}`, async () => {
      if (!child!.running())
        throw new Error(`redis-server exited: ${child!.output().trim().split('\n').slice(-3).join(' | ')}`);
      await ping();
      return true;
    });
  };
  await start();
  return {
    url,
    port,
    dbsize: ping,
    async restartEmpty() {
      await child?.kill();
      await start();
    },
    stop: async () => {
      await child?.kill();
    },
  };
}

export function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
}
