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
 * - With a `cache`, an identical request reuses a model-written script at no cost (script-cache.ts);
 *   with a `delegation`, pattern memory decides whether a write starts at the premium model
 *   (delegation.ts). Neither failing ever fails a write: it is logged and the write goes on.
 */
import Anthropic from '@anthropic-ai/sdk';
import { SpanKind, trace } from '@opentelemetry/api';
import type { Model } from '@anthropic-ai/sdk/resources/messages/messages';
import type { Logger } from 'pino';
import type { VideoSpec } from '../../pipeline/stage.js';
import { CircuitBreaker } from '../../providers/circuit-breaker.js';
import { admit, callFailed } from '../../providers/guard.js';
import type { ProviderEvents, SkipReason } from '../../providers/provider-events.js';
import { failSpan, inSpan } from '../../telemetry/spans.js';
import type { ModelResult, ScriptDelegation, StartModel, WriteReport } from './delegation.js';
import type { ScriptDocument, ScriptSection } from './document.js';
import { countWords, SECTION_KINDS, validateScript, wordBudget } from './document.js';
import { fromCache, scriptCacheKey, type ScriptCache } from './script-cache.js';
import { costOf, DEFAULT_PRICES, priceOf, type PriceTable } from './prices.js';
import type { ScriptWriter, WriteContext } from './writer.js';

export const DEFAULT_CHEAP_MODEL: Model = 'claude-haiku-5-5';
export const DEFAULT_PREMIUM_MODEL: Model = 'claude-sonnet-5-5';
export const PROVIDER = 'anthropic';

export interface ClaudeWriterOptions {
  /** Read at each write, so a rotated key file is picked up. */
  apiKey: () => string;
  /** Defaults to the SDK's own (ANTHROPIC_BASE_URL, else the public API). */
  baseURL?: string;
  cheapModel?: string;
  premiumModel?: string;
  /** The writer used when no model gives a usable script. */
  fallback: ScriptWriter;
  /** What one video may spend on paid providers, in US dollars (default 0.10). */
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
  /** Shared with the process (so it can publish the states); one of its own by default. */
  circuits?: CircuitBreaker;
  events?: ProviderEvents;
  /** Model-written scripts by request; absent: no cache. */
  cache?: ScriptCache;
  /** Pattern memory: where a write starts, and what happened; absent: always cheap first. */
  delegation?: ScriptDelegation;
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

export class ClaudeScriptWriter implements ScriptWriter {
  readonly name = 'anthropic';
  readonly circuits: CircuitBreaker;
  private readonly prices: PriceTable;

  constructor(private readonly options: ClaudeWriterOptions) {
    this.prices = options.prices ?? DEFAULT_PRICES;
    this.circuits =
      options.circuits ??
      new CircuitBreaker({
        failures: options.circuitFailures,
        cooldownMs: options.circuitCooldownMs,
        now: options.now,
      });
  }

  get models(): string[] {
    const cheap = this.options.cheapModel ?? DEFAULT_CHEAP_MODEL;
    const premium = this.options.premiumModel ?? DEFAULT_PREMIUM_MODEL;
    return cheap === premium ? [cheap] : [cheap, premium];
  }

  async write(spec: VideoSpec, signal: AbortSignal, context?: WriteContext): Promise<ScriptDocument> {
    const log = context?.log;
    const events = this.options.events;
    const cache = this.options.cache;
    const key = cache ? scriptCacheKey(spec) : undefined;
    if (cache && key) {
      const lookup = await cache.get(key).then(
        (doc) => ({ doc }),
        (error: unknown) => {
          log?.warn({ err: error }, 'script cache unavailable; writing without it');
          return undefined;
        },
      );
      const hit = lookup?.doc;
      // An entry that no longer passes (a rule changed since it was written) is written anew.
      if (hit && validateScript(fromCache(hit, spec), spec).length === 0) {
        events?.delegation?.({
          kind: 'cache',
          task: 'script',
          provider: PROVIDER,
          result: 'hit',
          model: hit.writer.slice(PROVIDER.length + 1),
        });
        events?.served('script', hit.writer);
        log?.info({ writer: hit.writer }, 'script served from the cache');
        return fromCache(hit, spec);
      }
      // A lookup that failed is neither: the hit rate describes the cache, not Redis outages.
      if (lookup) events?.delegation?.({ kind: 'cache', task: 'script', provider: PROVIDER, result: 'miss' });
    }
    const start = await this.startModel(spec, log);
    const started = performance.now();
    const report: WriteReport = {
      start,
      writer: '',
      cheap: 'not_tried',
      premium: 'not_tried',
      validationFailures: 0,
      escalated: false,
      fellBack: false,
      costUsd: 0,
      latencyMs: 0,
    };
    const doc = await this.writeWithModels(spec, signal, start, report, context);
    report.writer = doc.writer;
    report.latencyMs = performance.now() - started;
    await this.options.delegation?.record(spec, report).catch((error: unknown) => {
      log?.warn({ err: error }, 'pattern memory unavailable; this write is not remembered');
    });
    if (cache && key && !report.fellBack) {
      await cache.put(key, doc).catch((error: unknown) => {
        log?.warn({ err: error }, 'script cache unavailable; the script is not cached');
      });
    }
    return doc;
  }

  /** Where pattern memory says this spec starts; cheap when it cannot be asked. */
  private async startModel(spec: VideoSpec, log?: Logger): Promise<StartModel> {
    const delegation = this.options.delegation;
    if (!delegation || this.models.length === 1) return 'cheap';
    return delegation.startModel(spec).catch((error: unknown) => {
      log?.warn({ err: error }, 'pattern memory unavailable; starting at the cheap model');
      return 'cheap' as const;
    });
  }

  private async writeWithModels(
    spec: VideoSpec,
    signal: AbortSignal,
    start: StartModel,
    report: WriteReport,
    context?: WriteContext,
  ): Promise<ScriptDocument> {
    const log = context?.log;
    const budget = this.options.budgetUsd ?? 0.1;
    const events = this.options.events;
    const [cheap] = this.models;
    const models = start === 'premium' ? this.models.slice(-1) : this.models;
    const tier = (model: string): 'cheap' | 'premium' =>
      model === cheap && start === 'cheap' ? 'cheap' : 'premium';
    const result = (model: string, r: ModelResult) => {
      report[tier(model)] = r;
    };
    // The video's spend so far (other stages, earlier attempts), plus this write's own calls when
    // the caller keeps no tally.
    let spentHere = 0;
    const spent = () => context?.spentUsd() ?? spentHere;
    const client = new Anthropic({
      apiKey: this.options.apiKey(),
      ...(this.options.baseURL ? { baseURL: this.options.baseURL } : {}),
      maxRetries: this.options.maxRetries ?? 2,
      timeout: this.options.timeoutMs ?? 60_000,
    });
    const skipped = (model: string, reason: SkipReason) =>
      trace
        .getActiveSpan()
        ?.addEvent('script_model.skipped', { 'gen_ai.request.model': model, 'archibald.reason': reason });
    let last: string | undefined;
    for (const [index, model] of models.entries()) {
      signal.throwIfAborted();
      last = model;
      const next = models[index + 1];
      const skip = admit({
        provider: PROVIDER,
        model,
        circuits: this.circuits,
        estimateUsd: this.maxCallCost(model, spec),
        spentUsd: spent(),
        budgetUsd: budget,
        events,
        log,
        onSkip: (reason) => skipped(model, reason),
      });
      if (skip) {
        result(model, 'skipped');
        // A dearer model would not fit the budget either.
        if (skip === 'budget') break;
        continue;
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
          const started = performance.now();
          try {
            const { doc, cost, tokens, usage } = await this.call(client, model, spec, signal, log);
            spentHere += cost;
            report.costUsd += cost;
            context?.addCost(PROVIDER, cost);
            span.setAttributes({
              'gen_ai.usage.input_tokens': usage.input_tokens,
              'gen_ai.usage.output_tokens': usage.output_tokens,
              'archibald.cost_usd': cost,
            });
            const problems = validateScript(doc, spec);
            const outcome = problems.length === 0 ? 'ok' : 'invalid';
            span.setAttribute('archibald.outcome', outcome);
            result(model, outcome);
            events?.call({
              provider: PROVIDER,
              model,
              outcome,
              latencyMs: performance.now() - started,
              units: tokens,
              unit: 'tokens',
              costUsd: cost,
            });
            if (outcome === 'ok') return doc;
            report.validationFailures += 1;
            if (next) this.escalate(model, report);
            log?.warn({ model, problems }, 'script model answer invalid; escalating');
            return undefined;
          } catch (error) {
            if (signal.aborted) throw signal.reason ?? error;
            callFailed({
              provider: PROVIDER,
              model,
              unit: 'tokens',
              started,
              signal,
              circuits: this.circuits,
              events,
            });
            result(model, 'error');
            span.setAttribute('archibald.outcome', 'error');
            // The SDK's error names the HTTP status and type, never the prompt.
            failSpan(span, error);
            if (next) this.escalate(model, report);
            log?.warn({ model, err: error }, 'script model call failed; escalating');
            return undefined;
          }
        },
      );
      if (doc) {
        events?.served('script', doc.writer);
        return doc;
      }
    }
    report.fellBack = true;
    if (last) events?.delegation?.({ kind: 'fallback', task: 'script', provider: PROVIDER, model: last });
    const doc = await this.options.fallback.write(spec, signal, context);
    events?.served('script', doc.writer);
    return doc;
  }

  /** A model's answer was unusable and the next model is asked. */
  private escalate(model: string, report: WriteReport): void {
    report.escalated = true;
    this.options.events?.delegation?.({ kind: 'escalation', task: 'script', provider: PROVIDER, model });
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

  private async call(
    client: Anthropic,
    model: string,
    spec: VideoSpec,
    signal: AbortSignal,
    log?: Logger,
  ): Promise<{ doc: ScriptDocument; cost: number; tokens: number; usage: Anthropic.Usage }> {
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
    this.circuits.succeeded(model);
    const cost = costOf(priceOf(this.prices, model), message.usage);
    log?.debug({ model, usage: message.usage, cost }, 'script model answered');
    const text = message.content
      .filter((block) => block.type === 'text')
      .map((block) => block.text)
      .join('');
    const u = message.usage;
    const tokens =
      u.input_tokens +
      u.output_tokens +
      (u.cache_creation_input_tokens ?? 0) +
      (u.cache_read_input_tokens ?? 0);
    return { doc: toDocument(text, spec, `${PROVIDER}:${model}`), cost, tokens, usage: u };
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
