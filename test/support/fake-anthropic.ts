/**
 * A local fake of Anthropic's Messages API (POST /v1/messages) for the real SDK to talk to: by
 * default it answers a valid script for the requested topic, style and duration (the offline
 * writer's lines in the structured-output shape), with `usage` like the real API's, including
 * prompt-cache writes on a model's first call and reads after. A test scripts other replies per
 * request: invalid JSON, an error status with headers, or a slow answer (and sees whether the
 * client closed the connection).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Style, VideoSpec } from '../../runtime/pipeline/stage.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: Array<{ type: string; text: string; cache_control?: { type: string } }>;
  messages: Array<{ role: string; content: string }>;
  output_config?: { format?: { type: string; schema: unknown } };
}

export type Reply =
  | { kind: 'script' }
  | { kind: 'text'; text: string }
  | { kind: 'status'; status: number; errorType: string; headers?: Record<string, string> }
  | { kind: 'slow'; ms: number };

export interface Received {
  model: string;
  body: MessagesRequest;
  at: number;
  /** Set when the client closed the connection before the answer was sent. */
  aborted: boolean;
}

export interface FakeAnthropic {
  url: string;
  received: Received[];
  /** Decides each reply; the default answers a valid script. */
  reply: (request: MessagesRequest, index: number) => Reply;
  /** Usage the script answers report for their output. */
  outputTokens: number;
  /** Milliseconds before each answer that is not an error status (default 0), as a real model takes. */
  latencyMs: (request: MessagesRequest) => number;
  close(): Promise<void>;
}

/** The spec as the writer's user prompt states it. */
export function specFromPrompt(prompt: string): VideoSpec {
  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(prompt)?.[1] ?? '';
  return {
    topic: field('Topic'),
    style: field('Style') as Style,
    durationSeconds: Number(/^Duration: (\d+)/m.exec(prompt)?.[1] ?? 60),
    aspect: '16:9',
    resolution: '720p',
    voice: 'slt',
    burnCaptions: false,
    seed: field('Variation seed'),
  };
}

async function validAnswer(request: MessagesRequest): Promise<string> {
  const spec = specFromPrompt(request.messages[0]?.content ?? '');
  const doc = await new OfflineScriptWriter().write(spec, new AbortController().signal);
  return JSON.stringify({
    title: doc.title,
    sections: doc.sections.map((s) => ({ kind: s.kind, segments: s.segments })),
  });
}

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const cached = new Set<string>();
  const fake: FakeAnthropic = {
    url: '',
    received: [],
    reply: () => ({ kind: 'script' }),
    outputTokens: 420,
    latencyMs: () => 0,
    close: async () => {},
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not found' } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesRequest;
    const received: Received = { model: body.model, body, at: Date.now(), aborted: false };
    const index = fake.received.push(received) - 1;
    res.on('close', () => {
      if (!res.writableFinished) received.aborted = true;
    });
    let reply = fake.reply(body, index);
    if (reply.kind === 'slow') {
      await new Promise((resolve) => setTimeout(resolve, reply.kind === 'slow' ? reply.ms : 0));
      if (received.aborted || res.destroyed) return;
      reply = { kind: 'script' };
    }
    if (reply.kind !== 'status') {
      await new Promise((resolve) => setTimeout(resolve, fake.latencyMs(body)));
      if (received.aborted || res.destroyed) return;
    }
    if (reply.kind === 'status') {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify({ type: 'error', error: { type: reply.errorType, message: reply.errorType } }));
      return;
    }
    const text = reply.kind === 'text' ? reply.text : await validAnswer(body);
    const systemTokens = Math.ceil((body.system?.map((s) => s.text).join('') ?? '').length / 4);
    const userTokens = Math.ceil((body.messages[0]?.content ?? '').length / 4);
    const cachedBefore = cached.has(body.model);
    cached.add(body.model);
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_fake_${index}` });
    res.end(
      JSON.stringify({
        id: `msg_fake_${index}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: userTokens,
          output_tokens: fake.outputTokens,
          cache_creation_input_tokens: cachedBefore ? 0 : systemTokens,
          cache_read_input_tokens: cachedBefore ? systemTokens : 0,
          cache_creation: {
            ephemeral_5m_input_tokens: cachedBefore ? 0 : systemTokens,
            ephemeral_1h_input_tokens: 0,
          },
          server_tool_use: null,
          service_tier: 'standard',
        },
      }),
    );
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(error) } }));
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
