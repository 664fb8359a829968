/**
 * The Claude script writer: asks a cheap model first and a premium one only when needed, and
 * falls back to the offline writer, so a video never fails because a provider did.
 *
 * - Each call requests structured output (`output_config.format`, a JSON schema of the script)
 *   and the answer passes the same `validateScript` as the offline writer's.
 * - The cheap model's invalid answer, or its failure after the SDK's retries (429, 5xx and 529,
 *   with backoff that honours `retry-after`), escalates to the premium model; the premium model's
 *   failure, an open circuit or the video's budget falls back to the offline writer.
 * - The job's signal aborts a request in flight; a cancelled job is not written offline.
 * - A circuit breaker per model skips a model for a cool-down after consecutive failures.
 * - The fixed system prompt is marked for prompt caching.
 * - Every answered call is priced from its `usage` (prices.ts) and recorded with addCost.
 */
import Anthropic from '@anthropic-ai/sdk';
import { SpanKind, trace } from '@opentelemetry/api';
import type { Model } from '@anthropic-ai/sdk/resources/messages/messages';
import type { Logger } from 'pino';
import type { VideoSpec } from '../../pipeline/stage.js';
import { failSpan, inSpan } from '../../telemetry/spans.js';
import type { ScriptDocument, ScriptSection } from './document.js';
import { countWords, SECTION_KINDS, validateScript, wordBudget } from './document.js';
import { costOf, DEFAULT_PRICES, priceOf, type PriceTable } from './prices.js';
import type { ScriptWriter, WriteContext } from './writer.js';

export const DEFAULT_CHEAP_MODEL: Model = 'claude-haiku-5-5';
export const DEFAULT_PREMIUM_MODEL: Model = 'claude-sonnet-5-5';
export const PROVIDER = 'anthropic';

export type CallOutcome = 'ok' | 'invalid' | 'error';
export type SkipReason = 'circuit_open' | 'budget';

/** What the writer counts, for the process's metrics (the worker maps these onto the catalog). */
export interface ScriptWriterMetrics {
  call(model: string, outcome: CallOutcome): void;
  skip(model: string, reason: SkipReason): void;
  written(writer: string): void;
}

export interface ClaudeWriterOptions {
  /** Read at each write, so a rotated key file is picked up. */
  apiKey: () => string;
  /** Defaults to the SDK's own (ANTHROPIC_BASE_URL, else the public API). */
  baseURL?: string;
  cheapModel?: string;
  premiumModel?: string;
  /** The writer used when no model gives a usable script. */
  fallback: ScriptWriter;
  /** What one video may spend on script calls, in US dollars (default 0.05). */
  budgetUsd?: number;
  prices?: PriceTable;
  /** Per attempt of a call, in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** SDK retries of 408/409/429/5xx/529 and connection errors (default 2). */
  maxRetries?: number;
  /** Consecutive failures of a model that open its circuit (default 3). */
  circuitFailures?: number;
  /** How long an open circuit skips its model, in milliseconds (default 60 000). */
  circuitCooldownMs?: number;
  metrics?: ScriptWriterMetrics;
  now?: () => number;
}

/** The fixed part of every request: cached (cache_control) and identical for all videos. */
export const SYSTEM_PROMPT = `You write scripts for guided-meditation videos that a text-to-speech voice reads aloud.

Write calm, warm, plain spoken English in the second person. Each segment is one line the narrator speaks, a short sentence or two, followed by a pause in seconds (usually 1 to 6). Never repeat a line straight after itself. Do not write stage directions, headings, emoji or markup: only words a listener hears.

The sections come in this order: "settle" (arriving, getting comfortable), "breath" (guided breathing), then "body" (a body scan) and/or "theme" (the topic itself), and last "close" (returning, gently). You may repeat breath, body and theme sections in a long script, but the first section is always settle and the last is always close.

Name the topic in the opening and in the closing lines, in words a listener would say. Match the style: calm is steady and grounded, sleep is slow and drowsy, focus is clear and alert, gratitude is warm and appreciative.

The total number of spoken words must fall inside the range the request gives; count carefully. Answer only with the JSON document the schema describes.`;

/** The JSON schema of the answer (structured output); the writer adds topic, style and counts. */
export const SCRIPT_SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    sections: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: [...SECTION_KINDS] },
          segments: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                text: { type: 'string' },
                pauseAfterSeconds: { type: 'number' },
              },
              required: ['text', 'pauseAfterSeconds'],
              additionalProperties: false,
            },
          },
        },
        required: ['kind', 'segments'],
        additionalProperties: false,
      },
    },
  },
  required: ['title', 'sections'],
  additionalProperties: false,
} as const;

/** Output tokens a script may need: about 1.4 tokens a word plus the JSON around each line. */
export function maxTokensFor(durationSeconds: number): number {
  const { max } = wordBudget(durationSeconds);
  return Math.min(8192, 512 + Math.ceil(max * 4));
}

export function userPrompt(spec: VideoSpec): string {
  const { min, max, target } = wordBudget(spec.durationSeconds);
  return [
    `Topic: ${spec.topic}`,
    `Style: ${spec.style}`,
    `Duration: ${spec.durationSeconds} seconds`,
    `Spoken words: between ${min} and ${max}, aim for ${target}.`,
    `Variation seed: ${spec.seed}`,
  ].join('\n');
}

interface Circuit {
  failures: number;
  openUntil: number;
}

export class ClaudeScriptWriter implements ScriptWriter {
  readonly name = 'anthropic';
  private readonly circuits = new Map<string, Circuit>();
  private readonly prices: PriceTable;
  private readonly now: () => number;

  constructor(private readonly options: ClaudeWriterOptions) {
    this.prices = options.prices ?? DEFAULT_PRICES;
    this.now = options.now ?? Date.now;
  }

  get models(): string[] {
    const cheap = this.options.cheapModel ?? DEFAULT_CHEAP_MODEL;
    const premium = this.options.premiumModel ?? DEFAULT_PREMIUM_MODEL;
    return cheap === premium ? [cheap] : [cheap, premium];
  }

  /** Whether a model is being skipped for a cool-down. */
  circuitOpen(model: string): boolean {
    return (this.circuits.get(model)?.openUntil ?? 0) > this.now();
  }

  async write(spec: VideoSpec, signal: AbortSignal, context?: WriteContext): Promise<ScriptDocument> {
    const log = context?.log;
    const budget = this.options.budgetUsd ?? 0.05;
    const metrics = this.options.metrics;
    let spent = 0;
    const client = new Anthropic({
      apiKey: this.options.apiKey(),
      ...(this.options.baseURL ? { baseURL: this.options.baseURL } : {}),
      maxRetries: this.options.maxRetries ?? 2,
      timeout: this.options.timeoutMs ?? 60_000,
    });
    for (const model of this.models) {
      signal.throwIfAborted();
      if (this.circuitOpen(model)) {
        metrics?.skip(model, 'circuit_open');
        trace.getActiveSpan()?.addEvent('script_model.skipped', {
          'gen_ai.request.model': model,
          'archibald.reason': 'circuit_open',
        });
        log?.warn({ model }, 'script model skipped: its circuit is open');
        continue;
      }
      const estimate = this.maxCallCost(model, spec);
      if (spent + estimate > budget) {
        metrics?.skip(model, 'budget');
        trace
          .getActiveSpan()
          ?.addEvent('script_model.skipped', { 'gen_ai.request.model': model, 'archibald.reason': 'budget' });
        log?.warn({ model, spent, estimate, budget }, 'script model skipped: the video budget');
        // A dearer model would not fit either.
        break;
      }
      // One span per model call (the SDK's HTTP requests, retries included, are its children).
      const doc = await inSpan(
        `chat ${model}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.system': PROVIDER,
            'gen_ai.operation.name': 'chat',
            'gen_ai.request.model': model,
          },
          statusByCaller: true,
        },
        async (span): Promise<ScriptDocument | undefined> => {
          try {
            const { doc, cost, usage } = await this.call(client, model, spec, signal, log);
            spent += cost;
            context?.addCost(PROVIDER, cost);
            span.setAttributes({
              'gen_ai.usage.input_tokens': usage.input_tokens,
              'gen_ai.usage.output_tokens': usage.output_tokens,
              'archibald.cost_usd': cost,
            });
            const problems = validateScript(doc, spec);
            if (problems.length === 0) {
              metrics?.call(model, 'ok');
              metrics?.written(doc.writer);
              span.setAttribute('archibald.outcome', 'ok');
              return doc;
            }
            metrics?.call(model, 'invalid');
            span.setAttribute('archibald.outcome', 'invalid');
            log?.warn({ model, problems }, 'script model answer invalid; escalating');
            return undefined;
          } catch (error) {
            if (signal.aborted) throw signal.reason ?? error;
            metrics?.call(model, 'error');
            this.failed(model);
            span.setAttribute('archibald.outcome', 'error');
            // The SDK's error names the HTTP status and type, never the prompt.
            failSpan(span, error);
            log?.warn({ model, err: error }, 'script model call failed; escalating');
            return undefined;
          }
        },
      );
      if (doc) return doc;
    }
    const doc = await this.options.fallback.write(spec, signal, context);
    metrics?.written(doc.writer);
    return doc;
  }

  /** The most a call may cost: its prompt as uncached input or a cache write, and max_tokens of output. */
  maxCallCost(model: string, spec: VideoSpec): number {
    const price = priceOf(this.prices, model);
    // About four characters a token; the schema is sent too.
    const promptTokens = Math.ceil(
      (SYSTEM_PROMPT.length + userPrompt(spec).length + JSON.stringify(SCRIPT_SCHEMA).length) / 4,
    );
    const inputRate = Math.max(price.inputPerMTok, price.cacheWritePerMTok);
    return (promptTokens * inputRate + maxTokensFor(spec.durationSeconds) * price.outputPerMTok) / 1_000_000;
  }

  private failed(model: string): void {
    const circuit = this.circuits.get(model) ?? { failures: 0, openUntil: 0 };
    circuit.failures += 1;
    if (circuit.failures >= (this.options.circuitFailures ?? 3)) {
      circuit.openUntil = this.now() + (this.options.circuitCooldownMs ?? 60_000);
      circuit.failures = 0;
    }
    this.circuits.set(model, circuit);
  }

  private async call(
    client: Anthropic,
    model: string,
    spec: VideoSpec,
    signal: AbortSignal,
    log?: Logger,
  ): Promise<{ doc: ScriptDocument; cost: number; usage: Anthropic.Usage }> {
    const message = await client.messages.create(
      {
        model,
        max_tokens: maxTokensFor(spec.durationSeconds),
        system: [{ type: 'text', text: SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: userPrompt(spec) }],
        output_config: { format: { type: 'json_schema', schema: SCRIPT_SCHEMA } },
      },
      { signal },
    );
    // The model answered: the circuit closes, whatever the answer is worth.
    this.circuits.delete(model);
    const cost = costOf(priceOf(this.prices, model), message.usage);
    log?.debug({ model, usage: message.usage, cost }, 'script model answered');
    const text = message.content
      .filter((block) => block.type === 'text')
      .map((block) => block.text)
      .join('');
    return { doc: toDocument(text, spec, `${PROVIDER}:${model}`), cost, usage: message.usage };
  }
}

/**
 * The model's answer as a script document (topic, style and word count from the spec and the
 * lines); an answer that is not the schema's shape gives an empty document, which fails validation.
 */
export function toDocument(text: string, spec: VideoSpec, writer: string): ScriptDocument {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  const a = (answer ?? {}) as { title?: unknown; sections?: unknown };
  const sections: ScriptSection[] = Array.isArray(a.sections)
    ? a.sections.flatMap((raw: unknown) => {
        const s = raw as { kind?: unknown; segments?: unknown };
        if (!SECTION_KINDS.includes(s.kind as never) || !Array.isArray(s.segments)) return [];
        return [
          {
            kind: s.kind as ScriptSection['kind'],
            segments: s.segments.map((seg: unknown) => {
              const g = seg as { text?: unknown; pauseAfterSeconds?: unknown };
              return {
                text: typeof g.text === 'string' ? g.text.trim() : '',
                pauseAfterSeconds: typeof g.pauseAfterSeconds === 'number' ? g.pauseAfterSeconds : -1,
              };
            }),
          },
        ];
      })
    : [];
  return {
    title: typeof a.title === 'string' && a.title.trim() ? a.title.trim() : spec.topic,
    topic: spec.topic,
    style: spec.style,
    durationSeconds: spec.durationSeconds,
    sections,
    wordCount: sections.flatMap((s) => s.segments).reduce((sum, s) => sum + countWords(s.text), 0),
    writer,
  };
}
