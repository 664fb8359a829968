/**
 * Still images from FAL through its HTTP API: one synchronous `POST https://fal.run/<model>` per
 * image (`Authorization: Key <key>`, `{ prompt, image_size: { width, height }, seed, num_images }`),
 * whose answer lists image URLs that are then downloaded (without the key: they are on fal's CDN).
 * Each download is normalised by ffmpeg to a JPEG of exactly the requested size.
 *
 * - Billed per megapixel of output, each image rounded up (media-prices.ts): the set's price is
 *   checked against the video's budget before the first call, and each image's cost is recorded as
 *   it arrives (it is billed even if a later one fails).
 * - Images are kept in the asset cache by (model, prompt, seed, size): a retried job, or another
 *   video of the same topic, style and seed, does not pay again.
 * - The job's signal aborts the requests in flight (fal may still bill a synchronous request it
 *   finished, see https://docs.fal.ai/model-endpoints/synchronous-requests); one image failing
 *   after its retries stops the others, and the visuals stage falls back to the gradients.
 * - A circuit breaker per model skips FAL for a cool-down after consecutive failures.
 *
 * The prompt carries the topic to the provider; it is never logged.
 */
import { rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Style, VideoSpec } from '../pipeline/stage.js';
import { runFfmpeg } from '../media/ffmpeg.js';
import { CircuitBreaker } from '../providers/circuit-breaker.js';
import { admit, callAnswered, callFailed } from '../providers/guard.js';
import { httpCall } from '../providers/http-call.js';
import type { HttpProviderOptions } from '../providers/http-provider-options.js';
import {
  DEFAULT_MEDIA_PRICES,
  unitCost,
  unitPriceOf,
  type UnitPriceTable,
} from '../providers/media-prices.js';
import { runPool } from '../providers/pool.js';
import { ProviderSkipped } from '../providers/skipped.js';
import type { AssetCache } from './asset-cache.js';
import { seededRandom } from './seeded-random.js';

export const FAL = 'fal';
export const DEFAULT_FAL_BASE_URL = 'https://fal.run';
/** FLUX.1 [schnell]: four steps, about a second an image, the cheapest FLUX on fal. */
export const DEFAULT_FAL_MODEL = 'fal-ai/flux/schnell';
const MEGAPIXEL = 1024 * 1024;

/** Timeouts default to 60 s per call or download. */
export type FalOptions = HttpProviderOptions;

export interface StillsRequest {
  spec: VideoSpec;
  count: number;
  size: { width: number; height: number };
  signal: AbortSignal;
  /** The job's work directory: pins the cached images while the job lives. */
  holder: string;
  timeoutSeconds: number;
  addCost(provider: string, usd: number): void;
  spentUsd(): number;
  log?: Logger;
}

export interface Stills {
  /** Absolute paths of JPEGs of `size`, in showing order. */
  files: string[];
  /** `fal:<model>` */
  by: string;
  /** Images that were in the cache (not paid for again). */
  cached: number;
}

/** Something that makes a video's stills: FAL, or any other image provider. */
export interface StillSource {
  readonly name: string;
  stills(request: StillsRequest): Promise<Stills>;
}

/**
 * The size to ask for: the frame's aspect at about one megapixel (one billed unit), sides a
 * multiple of 16 as the FLUX models want them.
 */
export function stillSize(frame: { width: number; height: number }): { width: number; height: number } {
  const scale = Math.sqrt(MEGAPIXEL / (frame.width * frame.height));
  const side = (n: number) => Math.max(256, Math.floor((n * scale) / 16) * 16);
  return { width: side(frame.width), height: side(frame.height) };
}

const MOODS: Record<Style, string> = {
  calm: 'serene, still and balanced, soft morning light, muted blues and greens',
  sleep: 'dreamy and dim, moonlight, deep blues and violets, very soft focus',
  focus: 'clear and crisp, gentle daylight, clean minimal composition, cool tones',
  gratitude: 'warm golden-hour light, gentle amber and rose tones, tender and inviting',
};

const VIEWS = [
  'a wide, open landscape',
  'a quiet close-up of natural textures',
  'a distant horizon over water',
  'soft light through leaves',
  'a calm sky with slow clouds',
  'a still forest path',
];

/**
 * The prompt of the `index`-th still: the topic and the style's mood, a different view per image
 * (the seed decides the order), and no people or writing, which a meditation's background must not
 * draw the eye to.
 */
export function stillPrompt(spec: Pick<VideoSpec, 'topic' | 'style' | 'seed'>, index: number): string {
  const random = seededRandom('stills', spec.style, spec.seed);
  const start = random.int(VIEWS.length);
  const view = VIEWS[(start + index) % VIEWS.length] as string;
  return (
    `A meditative background image evoking "${spec.topic}": ${view}, ${MOODS[spec.style]}. ` +
    'Photographic, calm, uncluttered, no people, no text, no logos.'
  );
}

/** FAL's integer seed for the `index`-th still of a video. */
export function stillSeed(spec: Pick<VideoSpec, 'seed'>, index: number): number {
  return seededRandom('still-seed', spec.seed, String(index)).int(2 ** 31);
}

interface FalAnswer {
  images?: Array<{ url?: unknown; width?: unknown; height?: unknown }>;
  /** Per image, whether the safety checker flagged it (a flagged image comes back blacked out). */
  has_nsfw_concepts?: unknown;
}

/** The safety checker flagged the image: it is billed, but blank, so the set cannot be shown. */
class FlaggedImage extends Error {
  constructor() {
    super('FAL flagged the image (safety checker)');
    this.name = 'FlaggedImage';
  }
}

export class FalStills implements StillSource {
  readonly name = FAL;
  readonly circuits: CircuitBreaker;
  readonly model: string;
  private readonly baseUrl: string;
  private readonly prices: UnitPriceTable;

  constructor(
    private readonly cache: AssetCache,
    private readonly options: FalOptions,
  ) {
    this.model = options.model ?? DEFAULT_FAL_MODEL;
    this.baseUrl = (options.baseUrl ?? DEFAULT_FAL_BASE_URL).replace(/\/+$/, '');
    this.prices = options.prices ?? DEFAULT_MEDIA_PRICES.fal;
    this.circuits = new CircuitBreaker({
      failures: options.circuitFailures,
      cooldownMs: options.circuitCooldownMs,
    });
  }

  /** What one image of this size costs. */
  costOf(size: { width: number; height: number }): number {
    const price = unitPriceOf(this.prices, this.model, 'megapixels');
    if (price.unit === 'images') return unitCost(price, 1);
    return unitCost(price, Math.ceil((size.width * size.height) / MEGAPIXEL));
  }

  async stills(request: StillsRequest): Promise<Stills> {
    const { events } = this.options;
    request.signal.throwIfAborted();
    const items = Array.from({ length: request.count }, (_, i) => ({
      prompt: stillPrompt(request.spec, i),
      seed: stillSeed(request.spec, i),
    }));
    const keys = items.map((item) => ({ version: 1, model: this.model, ...item, size: request.size }));
    const present = await Promise.all(keys.map((key) => this.cache.has('still', key, 'jpg')));
    const toMake = present.filter((p) => !p).length;
    if (toMake > 0) {
      const skipped = admit({
        provider: FAL,
        model: this.model,
        circuits: this.circuits,
        estimateUsd: toMake * this.costOf(request.size),
        spentUsd: request.spentUsd(),
        budgetUsd: this.options.budgetUsd,
        events,
        log: request.log,
      });
      if (skipped) throw new ProviderSkipped(FAL, this.model, skipped);
    }
    const files = new Array<string>(items.length);
    let cached = 0;
    await runPool(items.length, this.options.concurrency ?? 3, request.signal, async (i, signal) => {
      const asset = await this.cache.getOrCreate(
        'still',
        keys[i],
        'jpg',
        (target, renderSignal) =>
          this.generate(items[i] as { prompt: string; seed: number }, target, request, renderSignal),
        { signal, holder: request.holder },
      );
      if (asset.hit) cached += 1;
      files[i] = asset.path;
    });
    return { files, by: `${FAL}:${this.model}`, cached };
  }

  /** One image: the model call, its cost and event, the download, normalised into `target`. */
  private async generate(
    item: { prompt: string; seed: number },
    target: string,
    request: StillsRequest,
    signal: AbortSignal,
  ): Promise<void> {
    const { events } = this.options;
    const http = {
      signal,
      timeoutMs: this.options.timeoutMs ?? 60_000,
      maxRetries: this.options.maxRetries ?? 2,
    };
    const started = performance.now();
    let image: { url: string; width: number; height: number; flagged: boolean };
    try {
      const { value } = await httpCall(
        `${this.baseUrl}/${this.model}`,
        {
          method: 'POST',
          headers: {
            authorization: `Key ${this.options.apiKey()}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify({
            prompt: item.prompt,
            image_size: request.size,
            seed: item.seed,
            num_images: 1,
            output_format: 'jpeg',
            enable_safety_checker: true,
          }),
        },
        async (response) => (await response.json()) as FalAnswer,
        // Each POST that reaches fal makes and bills an image: one cut off after it was sent is not
        // sent again (http-call.ts); 429 and 5xx still are.
        { ...http, retryAfterSend: false },
      );
      const first = value.images?.[0];
      if (typeof first?.url !== 'string') throw new Error('FAL answered no image URL');
      image = {
        url: first.url,
        width: typeof first.width === 'number' ? first.width : request.size.width,
        height: typeof first.height === 'number' ? first.height : request.size.height,
        flagged: Array.isArray(value.has_nsfw_concepts) && value.has_nsfw_concepts[0] === true,
      };
    } catch (error) {
      callFailed({
        provider: FAL,
        model: this.model,
        unit: 'images',
        started,
        signal,
        circuits: this.circuits,
        events,
      });
      throw error;
    }
    // The image is made, so it is billed, whether or not the download below succeeds.
    callAnswered({
      provider: FAL,
      model: this.model,
      unit: 'images',
      started,
      circuits: this.circuits,
      events,
      outcome: image.flagged ? 'invalid' : 'ok',
      units: 1,
      costUsd: this.costOf(image),
      addCost: (provider, usd) => request.addCost(provider, usd),
    });
    // A flagged image fails the set, so the visuals stage falls back to the gradients rather than
    // showing a black still or a set with a gap. The prompt asks for calm landscapes, so this is
    // rare; it is not cached, and is not a failure of the provider's (the circuit stays closed).
    if (image.flagged) throw new FlaggedImage();
    const download = `${target}.download`;
    try {
      const { value: bytes } = await httpCall(
        image.url,
        { method: 'GET' },
        async (response) => Buffer.from(await response.arrayBuffer()),
        http,
      );
      await writeFile(download, bytes);
      const { width, height } = request.size;
      await runFfmpeg({
        inputs: [{ source: download }],
        outputs: [
          {
            target,
            options: [
              '-vf',
              `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},setsar=1`,
              '-frames:v',
              '1',
              '-q:v',
              '2',
            ],
          },
        ],
        signal,
        timeoutSeconds: request.timeoutSeconds,
      });
    } finally {
      await rm(download, { force: true });
    }
  }
}
