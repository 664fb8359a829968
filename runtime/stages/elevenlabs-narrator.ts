/**
 * ElevenLabs narration through its HTTP API: one `POST /v1/text-to-speech/{voice_id}` per line
 * (`xi-api-key` header, `{ text, model_id }` body, `output_format` in the query), a few lines in
 * flight at once. Each MP3 answer is decoded by ffmpeg as it arrives into the PCM WAV the narration
 * stage reads (flite writes the same), mono, at the sample rate the assembly mixes at, and handed to
 * `lineReady`, so the asset cache keeps every paid line even when a later one fails.
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
import { admit, callAnswered, callFailed } from '../providers/guard.js';
import { httpCall } from '../providers/http-call.js';
import type { HttpProviderOptions } from '../providers/http-provider-options.js';
import { unitCost, unitPriceOf, type UnitPriceTable } from '../providers/media-prices.js';
import { DEFAULT_MEDIA_PRICES } from '../providers/media-prices.js';
import { runPool } from '../providers/pool.js';
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

/** Timeouts default to 30 s per line. */
export interface ElevenLabsOptions extends HttpProviderOptions {
  voiceId?: string;
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
      failures: options.circuitFailures,
      cooldownMs: options.circuitCooldownMs,
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
    const skipped = admit({
      provider: ELEVENLABS,
      model: this.model,
      circuits: this.circuits,
      estimateUsd: this.costOf(request.lines),
      spentUsd: account?.spentUsd() ?? 0,
      budgetUsd: this.options.budgetUsd,
      events,
      log: account?.log,
    });
    if (skipped) throw new ProviderSkipped(ELEVENLABS, this.model, skipped);

    let done = 0;
    await runPool(request.lines.length, this.options.concurrency ?? 3, request.signal, async (i, signal) => {
      await this.speak(request.lines[i] as string, request.files[i] as string, signal, request);
      // Each line is handed on as soon as it is whole, so a cache keeps it even if a later one fails.
      await request.lineReady?.(i);
      done += 1;
      request.progress(done / request.lines.length);
    });
    return { by };
  }

  /** One line: the request, its cost and event as soon as it is answered, then the WAV in `file`. */
  private async speak(line: string, file: string, signal: AbortSignal, request: SynthesisRequest) {
    const { events } = this.options;
    const url =
      `${this.baseUrl}/v1/text-to-speech/${encodeURIComponent(this.voiceId)}` +
      `?output_format=${OUTPUT_FORMAT}`;
    const started = performance.now();
    let audio: Buffer;
    try {
      ({ value: audio } = await httpCall(
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
          // Each processed request is billed for its characters: not re-sent once it may have been.
          retryAfterSend: false,
        },
      ));
      if (audio.length === 0) throw new Error('ElevenLabs answered no audio');
    } catch (error) {
      callFailed({
        provider: ELEVENLABS,
        model: this.model,
        unit: 'characters',
        started,
        signal,
        circuits: this.circuits,
        events,
      });
      throw error;
    }
    callAnswered({
      provider: ELEVENLABS,
      model: this.model,
      unit: 'characters',
      started,
      circuits: this.circuits,
      events,
      outcome: 'ok',
      units: line.length,
      costUsd: this.costOf([line]),
      addCost: (provider, usd) => request.account?.addCost(provider, usd),
    });
    await decodeToWav(audio, file, signal, request);
  }
}

/** One MP3 answer as mono PCM WAV at the mix's rate in `file` (relative to the work directory). */
async function decodeToWav(
  audio: Buffer,
  file: string,
  signal: AbortSignal,
  request: SynthesisRequest,
): Promise<void> {
  const mp3 = join(request.dir, `${file}.mp3`);
  await mkdir(dirname(mp3), { recursive: true });
  try {
    await writeFile(mp3, audio);
    await runFfmpeg({
      cwd: request.dir,
      inputs: [{ source: `${file}.mp3` }],
      outputs: [
        {
          target: file,
          options: ['-ac', '1', '-ar', String(AUDIO_SAMPLE_RATE), '-c:a', 'pcm_s16le'],
        },
      ],
      signal,
      timeoutSeconds: request.timeoutSeconds,
    });
  } finally {
    await rm(mp3, { force: true });
  }
}
