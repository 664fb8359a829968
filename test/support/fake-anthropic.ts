/**
 * A local fake of Anthropic's Messages API (POST /v1/messages) for the real SDK to talk to: by
 * default it answers a valid script for the requested topic, style and duration (the offline
 * writer's lines in the structured-output shape), with `usage` like the real API's, including
 * prompt-cache writes on a model's first call and reads after. A test scripts other replies per
 * request: invalid JSON, an error status with headers, or a slow answer (and sees whether the
 * client closed the connection). The server is the shared one of fake-http.ts.
 */
import { startFakeServer, type FakeReceived } from './fake-http.js';
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

/** A request as the shared server records it, with the model it asked for. */
export type Received = FakeReceived<MessagesRequest> & { model: string };

type Answer = Extract<Reply, { kind: 'script' | 'text' }>;

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
  const server = await startFakeServer<MessagesRequest, Answer>(
    {
      isCall: (method, path) => method === 'POST' && path === '/v1/messages',
      async answer(request, index, res, reply) {
        const body = request.body;
        const text = reply?.kind === 'text' ? reply.text : await validAnswer(body);
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
      },
    },
    { kind: 'script' },
  );
  const fake: FakeAnthropic = {
    url: server.url,
    // The shared server's own list: each request gets its model as it is recorded (below).
    received: server.received as Received[],
    reply: () => ({ kind: 'script' }),
    outputTokens: 420,
    latencyMs: () => 0,
    close: () => server.close(),
  };
  server.reply = (request, index) => {
    Object.assign(request, { model: request.body.model });
    const reply = fake.reply(request.body, index);
    if (reply.kind !== 'status') return reply;
    const { errorType, ...status } = reply;
    return { ...status, body: { type: 'error', error: { type: errorType, message: errorType } } };
  };
  server.latencyMs = (request) => fake.latencyMs(request.body);
  return fake;
}
