/**
 * A server binary (prometheus, prometheus-alertmanager) run for a test: on a spare loopback port,
 * in its own temporary directory, stopped (SIGTERM, then SIGKILL) and cleaned up by `stop()`.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  output(): string;
  /** Polls until `check` returns true; fails with `what` and the daemon's output otherwise. */
  waitUntil(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Stops the process and removes `dir`. */
  stop(): Promise<void>;
}

export async function startDaemon(options: {
  command: string;
  args: string[];
  /** The daemon's temporary directory, removed on stop. */
  dir: string;
  readyUrl: string;
}): Promise<Daemon> {
  const child = spawn(options.command, options.args, { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running = false;
      resolve();
    }),
  );
  child.once('error', (error) => (out += `\n${options.command} failed to start: ${error.message}`));

  const daemon: Daemon = {
    output: () => out,
    async waitUntil(what, check, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running) throw new Error(`${options.command} exited while waiting for ${what}:\n${out}`);
        if (await check().catch(() => false)) return;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}\n${options.command} output:\n${out}`);
        await delay(250);
      }
    },
    async stop() {
      if (running) {
        child.kill('SIGTERM');
        const stopped = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
        if (!stopped) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      await rm(options.dir, { recursive: true, force: true });
    },
  };
  try {
    await daemon.waitUntil(
      `${options.command} to be ready`,
      async () => (await fetch(options.readyUrl)).ok,
      30_000,
    );
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  return daemon;
}
