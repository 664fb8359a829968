/**
 * What the fakes of the providers' HTTP APIs share (fake-anthropic.ts, fake-elevenlabs.ts,
 * fake-fal.ts): a loopback
 * server, the requests it received (and whether the client hung up before the answer), and the
 * replies a test scripts per request: the normal answer, an error status with headers, or a slow
 * answer. A latency per request makes them answer as slowly as the real services (the AI bench).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `Answer`: the normal answer, or other answers a fake knows (Anthropic's `text`). */
export type FakeReply<Answer extends { kind: string } = { kind: 'answer' }> =
  | Answer
  /** An error status; `body` replaces the default error JSON (each API has its own shape). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** The normal answer after `ms` instead of the latency. */
  | { kind: 'slow'; ms: number };

export interface FakeReceived<Body> {
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Body;
  at: number;
  /** Set when the client closed the connection before the answer was sent. */
  aborted: boolean;
}

export interface FakeServer<Body, Answer extends { kind: string } = { kind: 'answer' }> {
  url: string;
  received: Array<FakeReceived<Body>>;
  /** Decides each reply to an API call; the default is the normal answer. */
  reply: (request: FakeReceived<Body>, index: number) => FakeReply<Answer>;
  /** Milliseconds before each normal answer (default 0). */
  latencyMs: (request: FakeReceived<Body>) => number;
  close(): Promise<void>;
}

export interface FakeRoutes<Body, Answer extends { kind: string } = { kind: 'answer' }> {
  /** Whether a request is an API call (recorded and scripted) rather than, say, a file download. */
  isCall(method: string, path: string): boolean;
  /** The normal answer to an API call (`reply` undefined after a slow reply). */
  answer(request: FakeReceived<Body>, index: number, res: ServerResponse, reply?: Answer): Promise<void>;
  /** Anything else the fake serves (GET of a file); false for a 404. */
  other?(method: string, path: string, res: ServerResponse): Promise<boolean>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isStatus(reply: { kind: string }): reply is Extract<FakeReply, { kind: 'status' }> {
  return reply.kind === 'status';
}

function isSlow(reply: { kind: string }): reply is Extract<FakeReply, { kind: 'slow' }> {
  return reply.kind === 'slow';
}

export async function startFakeServer<Body, Answer extends { kind: string } = { kind: 'answer' }>(
  routes: FakeRoutes<Body, Answer>,
  normal: Answer = { kind: 'answer' } as Answer,
): Promise<FakeServer<Body, Answer>> {
  const fake: FakeServer<Body, Answer> = {
    url: '',
    received: [],
    reply: () => normal,
    latencyMs: () => 0,
    close: async () => {},
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    if (!routes.isCall(method, url.pathname)) {
      if (!(await routes.other?.(method, url.pathname, res))) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ detail: 'not found' }));
      }
      return;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const received: FakeReceived<Body> = {
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: (text ? JSON.parse(text) : {}) as Body,
      at: Date.now(),
      aborted: false,
    };
    const index = fake.received.push(received) - 1;
    res.on('close', () => {
      if (!res.writableFinished) received.aborted = true;
    });
    const reply = fake.reply(received, index);
    if (isStatus(reply)) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify(
          reply.body ?? { detail: { status: `fake_${reply.status}`, message: 'scripted failure' } },
        ),
      );
      return;
    }
    const slow = isSlow(reply);
    await sleep(slow ? reply.ms : fake.latencyMs(received));
    if (received.aborted || res.destroyed) return;
    await routes.answer(received, index, res, slow ? undefined : (reply as Answer));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
