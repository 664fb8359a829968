/**
 * A database endpoint that can be moved: a loopback TCP forwarder standing for the RDS instance
 * endpoint, whose DNS name AWS moves to the standby on a Multi-AZ failover (and for CloudNativePG's
 * `-rw` Service, whose endpoints the operator moves). The runtime connects to the endpoint, never
 * to a server; `moveTo` re-points it and drops the connections to the old target, as a failover
 * does. The runtime's configuration (DATABASE_URL) does not change.
 */
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import type { DrillRun } from './run.js';

export interface Endpoint {
  port: number;
  url(database?: string): string;
  /** The port connections go to now. */
  target(): number;
  /** New connections go to `port`; those open to the old target are cut. */
  moveTo(port: number): void;
}

export async function startEndpoint(run: DrillRun, port: number, targetPort: number): Promise<Endpoint> {
  let target = targetPort;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target });
    const pair = [client, upstream];
    for (const s of pair) {
      open.add(s);
      s.on('error', () => pair.forEach((p) => p.destroy()));
      s.on('close', () => {
        open.delete(s);
        pair.forEach((p) => p.destroy());
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
  });
  run.defer('stop the database endpoint', async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    target: () => target,
    moveTo(next: number) {
      target = next;
      for (const s of open) s.destroy();
    },
  };
}
