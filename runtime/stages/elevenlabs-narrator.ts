/**
 * ElevenLabs narration through its HTTP API: one `POST /v1/text-to-speech/{voice_id}` per line
 * (`xi-api-key` header, `{ text, model_id }` body, `output_format` in the query), a few lines in
 * flight at once. The MP3 answers are decoded by ffmpeg into the PCM WAV the narration stage reads
 * (flite writes the same), mono, at the sample rate the assembly mixes at.
 *
 * - Billed per character of text: the whole narration's price is checked against the video's
 *   budget before the first call (a narration half in one voice is no use), and every answered
 *   line's cost is recorded at once, since it is billed even if a later line fails.
 * - The job's signal aborts the requests in flight; one line failing after its retries stops the
 *   others and throws, and FallbackNarrator hands the narration to flite.
 * - A circuit breaker per model skips ElevenLabs for a cool-down after consecutive failures.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runFfmpeg } from '../media/ffmpeg.js';
import { CircuitBreaker } from '../providers/circuit-breaker.js';
import { httpCall } from '../providers/http-call.js';
import { unitCost, unitPriceOf, type UnitPriceTable } from '../providers/media-prices.js';
import { DEFAULT_MEDIA_PRICES } from '../providers/media-prices.js';
import type { ProviderEvents } from '../providers/provider-events.js';
import { ProviderSkipped } from '../providers/skipped.js';
import { AUDIO_SAMPLE_RATE } from './ambient.js';
import type { Narrator, SynthesisRequest } from './narration.js';

export const ELEVENLABS = 'elevenlabs';
export const DEFAULT_ELEVENLABS_BASE_URL = 'https://api.elevenlabs.io';
/** Flash v2.5: half the price of Multilingual v2 per character, and a calm read that suits the lines. */
export const DEFAULT_ELEVENLABS_MODEL = 'eleven_flash_v2_5';
/** "Rachel", one of ElevenLabs' premade voices, available to every account. */
export const DEFAULT_ELEVENLABS_VOICE = '21m00Tcm4TlvDq8ikWAM';
/** MP3 at 44.1 kHz, 128 kb/s: the API's default, and allowed on every plan (PCM 44.1 kHz is not). */
const OUTPUT_FORMAT = 'mp3_44100_128';

export interface ElevenLabsOptions {
  /** Read at each narration, so a rotated key file is picked up. */
  apiKey: () => string;
  baseUrl?: string;
  voiceId?: string;
  model?: string;
  /** What one video may spend on paid providers, in US dollars. */
  budgetUsd: number;
  prices?: UnitPriceTable;
  /** Per attempt of a line, in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Retries of 408/409/429/5xx and connection errors per line (default 2). */
  maxRetries?: number;
  /** Lines requested at once (default 3: below the concurrency of ElevenLabs' smaller plans). */
  concurrency?: number;
  circuitFailures?: number;
  circuitCooldownMs?: number;
  events?: ProviderEvents;
}

export class ElevenLabsNarrator implements Narrator {
  readonly name: string;
  readonly variant: string;
  readonly circuits: CircuitBreaker;
  readonly model: string;
  private readonly voiceId: string;
  private readonly baseUrl: string;
  private readonly prices: UnitPriceTable;

  constructor(private readonly options: ElevenLabsOptions) {
    this.model = options.model ?? DEFAULT_ELEVENLABS_MODEL;
    this.name = `${ELEVENLABS}:${this.model}`;
    this.voiceId = options.voiceId ?? DEFAULT_ELEVENLABS_VOICE;
    this.baseUrl = (options.baseUrl ?? DEFAULT_ELEVENLABS_BASE_URL).replace(/\/+$/, '');
    this.prices = options.prices ?? DEFAULT_MEDIA_PRICES.elevenlabs;
    this.variant = `${this.voiceId}/${OUTPUT_FORMAT}`;
    this.circuits = new CircuitBreaker({
      ...(options.circuitFailures !== undefined ? { failures: options.circuitFailures } : {}),
      ...(options.circuitCooldownMs !== undefined ? { cooldownMs: options.circuitCooldownMs } : {}),
    });
  }

  /** What speaking these lines costs. */
  costOf(lines: readonly string[]): number {
    const characters = lines.reduce((sum, line) => sum + line.length, 0);
    return unitCost(unitPriceOf(this.prices, this.model, 'characters'), characters);
  }

  async synthesize(request: SynthesisRequest): Promise<{ by: string }> {
    const { events } = this.options;
    const account = request.account;
    const by = this.name;
    request.signal.throwIfAborted();
    if (request.lines.length === 0) return { by };
    if (this.circuits.isOpen(this.model)) {
      events?.skip(ELEVENLABS, this.model, 'circuit_open');
      throw new ProviderSkipped(ELEVENLABS, this.model, 'circuit_open');
    }
    const estimate = this.costOf(request.lines);
    const spent = account?.spentUsd() ?? 0;
    if (spent + estimate > this.options.budgetUsd) {
      events?.skip(ELEVENLABS, this.model, 'budget');
      account?.log?.warn(
        { model: this.model, spent, estimate, budget: this.options.budgetUsd },
        'ElevenLabs skipped: the video budget',
      );
      throw new ProviderSkipped(ELEVENLABS, this.model, 'budget');
    }

    // One failed line stops the others at once rather than paying for lines nobody will hear.
    const controller = new AbortController();
    const signal = AbortSignal.any([request.signal, controller.signal]);
    const mp3s = request.files.map((file) => `${file}.mp3`);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < request.lines.length) {
        const i = next++;
        await this.speak(request.lines[i] as string, join(request.dir, mp3s[i] as string), signal, request);
        done += 1;
        request.progress((0.9 * done) / request.lines.length);
      }
    };
    try {
      const workers = Array.from(
        { length: Math.min(this.options.concurrency ?? 3, request.lines.length) },
        () =>
          worker().catch((error: unknown) => {
            controller.abort(error);
            throw error;
          }),
      );
      await Promise.all(workers);
    } catch (error) {
      if (request.signal.aborted) throw request.signal.reason ?? error;
      throw controller.signal.reason ?? error;
    }
    await decodeToWav(request, mp3s);
    this.circuits.succeeded(this.model);
    request.progress(1);
    return { by };
  }

  /** One line: the request, its cost, its event; the MP3 written to `target`. */
  private async speak(line: string, target: string, signal: AbortSignal, request: SynthesisRequest) {
    const { events } = this.options;
    const url =
      `${this.baseUrl}/v1/text-to-speech/${encodeURIComponent(this.voiceId)}` +
      `?output_format=${OUTPUT_FORMAT}`;
    const started = performance.now();
    try {
      const { value } = await httpCall(
        url,
        {
          method: 'POST',
          headers: {
            'xi-api-key': this.options.apiKey(),
            'content-type': 'application/json',
            accept: 'audio/mpeg',
          },
          body: JSON.stringify({ text: line, model_id: this.model }),
        },
        async (response) => Buffer.from(await response.arrayBuffer()),
        {
          signal,
          timeoutMs: this.options.timeoutMs ?? 30_000,
          maxRetries: this.options.maxRetries ?? 2,
        },
      );
      if (value.length === 0) throw new Error('ElevenLabs answered no audio');
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, value);
      const cost = this.costOf([line]);
      request.account?.addCost(ELEVENLABS, cost);
      events?.call({
        provider: ELEVENLABS,
        model: this.model,
        outcome: 'ok',
        latencyMs: performance.now() - started,
        units: line.length,
        unit: 'characters',
        costUsd: cost,
      });
    } catch (error) {
      // A line stopped because another failed, or because the job was cancelled, is no failure of
      // the provider's.
      if (!signal.aborted) {
        events?.call({
          provider: ELEVENLABS,
          model: this.model,
          outcome: 'error',
          latencyMs: performance.now() - started,
          units: 0,
          unit: 'characters',
          costUsd: 0,
        });
        this.circuits.failed(this.model);
      }
      throw error;
    }
  }
}

/** The MP3 answers as mono PCM WAV at the mix's rate, in one ffmpeg run; the MP3s are then removed. */
async function decodeToWav(request: SynthesisRequest, mp3s: string[]): Promise<void> {
  try {
    await runFfmpeg({
      cwd: request.dir,
      inputs: mp3s.map((source) => ({ source })),
      outputs: request.files.map((target, i) => ({
        target,
        options: ['-map', `${i}:a`, '-ac', '1', '-ar', String(AUDIO_SAMPLE_RATE), '-c:a', 'pcm_s16le'],
      })),
      signal: request.signal,
      timeoutSeconds: request.timeoutSeconds,
    });
  } finally {
    await Promise.all(mp3s.map((file) => rm(join(request.dir, file), { force: true })));
  }
}
