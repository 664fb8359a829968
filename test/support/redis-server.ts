/**
 * A private single Redis on a spare loopback port without persistence, as ElastiCache nodes and
 * the dev StatefulSet's Redis come back after a restart without their data: `restartEmpty()` kills
 * it with SIGKILL and starts a new, empty server on the same port.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { sparePorts, waitForPing } from './redis-cluster.js';

export interface PrivateRedis {
  url: string;
  restartEmpty(): Promise<void>;
  stop(): Promise<void>;
}

function kill(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const [port] = (await sparePorts(1)) as [number];
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitForPing(port);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    async restartEmpty() {
      await kill(child);
      await start();
    },
    stop: () => kill(child),
  };
}
