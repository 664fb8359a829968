/**
 * What a voice or image call costs: per provider, a table of US dollars per billed unit per model,
 * kept here as data with the source and date of each figure (the Claude token prices live beside
 * the writer, stages/script/prices.ts). A JSON file of the same shape (MEDIA_PRICES_FILE) replaces
 * or adds models without a release:
 *
 *   { "elevenlabs": { "eleven_flash_v2_5": { "usd": 0.05, "per": 1000, "unit": "characters" } } }
 */
import { readFileSync } from 'node:fs';

export type MediaProvider = 'elevenlabs' | 'fal';

export interface UnitPrice {
  /** US dollars for `per` units. */
  usd: number;
  per: number;
  /** characters of text (ElevenLabs), images, or megapixels of output, each image rounded up (FAL). */
  unit: 'characters' | 'images' | 'megapixels';
  /** Where the figure comes from, and how sure it is. */
  source: string;
  /** When the source was read (YYYY-MM-DD). */
  asOf: string;
}

export type UnitPriceTable = Readonly<Record<string, UnitPrice>>;
export type MediaPrices = Readonly<Record<MediaProvider, UnitPriceTable>>;

/**
 * The built-in figures. None could be checked against the providers' own pricing pages offline;
 * each row names the third-party page it came from and says NOT VERIFIED. Check
 * https://elevenlabs.io/pricing/api and https://fal.ai/pricing, and override with MEDIA_PRICES_FILE.
 */
export const DEFAULT_MEDIA_PRICES: MediaPrices = {
  elevenlabs: {
    eleven_flash_v2_5: {
      usd: 0.05,
      per: 1000,
      unit: 'characters',
      source:
        'NOT VERIFIED: Flash/Turbo $0.05 per 1,000 characters per https://developer.puter.com/tutorials/elevenlabs-api-pricing/ (Jun 2026); ElevenLabs help docs: Flash/Turbo bill 0.5 credit per character',
      asOf: '2026-06-01',
    },
    eleven_turbo_v2_5: {
      usd: 0.05,
      per: 1000,
      unit: 'characters',
      source:
        'NOT VERIFIED: Flash/Turbo $0.05 per 1,000 characters per https://developer.puter.com/tutorials/elevenlabs-api-pricing/ (Jun 2026)',
      asOf: '2026-06-01',
    },
    eleven_multilingual_v2: {
      usd: 0.1,
      per: 1000,
      unit: 'characters',
      source:
        'NOT VERIFIED: Multilingual v2/v3 $0.10 per 1,000 characters per https://developer.puter.com/tutorials/elevenlabs-api-pricing/ (Jun 2026); another guide lists $0.12 as the Business-tier start',
      asOf: '2026-06-01',
    },
    eleven_v3: {
      usd: 0.1,
      per: 1000,
      unit: 'characters',
      source:
        'NOT VERIFIED: grouped with Multilingual v2 at $0.10 per 1,000 characters per https://developer.puter.com/tutorials/elevenlabs-api-pricing/ (Jun 2026)',
      asOf: '2026-06-01',
    },
  },
  fal: {
    'fal-ai/flux/schnell': {
      usd: 0.003,
      per: 1,
      unit: 'megapixels',
      source:
        'NOT VERIFIED: $0.003 per megapixel, rounded up to the next megapixel per image, per https://www.workflowlab.dev/cost/flux-api-options-compared (verified there May 2026); fal bills successful outputs only (https://docs.fal.ai/documentation/model-apis/pricing)',
      asOf: '2026-05-11',
    },
    'fal-ai/flux/dev': {
      usd: 0.025,
      per: 1,
      unit: 'megapixels',
      source:
        'NOT VERIFIED: $0.025 per megapixel per https://www.workflowlab.dev/cost/flux-dev-fal (May 2026)',
      asOf: '2026-05-25',
    },
  },
};

/** The built-in tables with MEDIA_PRICES_FILE's entries over them; a bad file is an error. */
export function loadMediaPrices(file?: string): MediaPrices {
  if (!file) return DEFAULT_MEDIA_PRICES;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${file}: not a JSON object`);
  const out: Record<MediaProvider, Record<string, UnitPrice>> = {
    elevenlabs: { ...DEFAULT_MEDIA_PRICES.elevenlabs },
    fal: { ...DEFAULT_MEDIA_PRICES.fal },
  };
  for (const [provider, models] of Object.entries(parsed as Record<string, unknown>)) {
    if (provider !== 'elevenlabs' && provider !== 'fal')
      throw new Error(`${file}: unknown provider ${provider} (elevenlabs, fal)`);
    for (const [model, value] of Object.entries((models ?? {}) as Record<string, unknown>)) {
      const p = value as Partial<UnitPrice>;
      if (typeof p.usd !== 'number' || !(p.usd >= 0))
        throw new Error(`${file}: ${provider}.${model}.usd must be a number >= 0`);
      if (typeof p.per !== 'number' || !(p.per > 0))
        throw new Error(`${file}: ${provider}.${model}.per must be a number > 0`);
      if (!['characters', 'images', 'megapixels'].includes(p.unit as string))
        throw new Error(`${file}: ${provider}.${model}.unit must be characters, images or megapixels`);
      out[provider][model] = { source: file, asOf: '', ...p } as UnitPrice;
    }
  }
  return out;
}

/**
 * A model's price; a model the table does not know is priced as the dearest one of the same unit,
 * so a budget is never undercounted.
 */
export function unitPriceOf(table: UnitPriceTable, model: string, unit: UnitPrice['unit']): UnitPrice {
  const known = table[model];
  if (known) return known;
  const rates = Object.values(table)
    .filter((p) => p.unit === unit)
    .map((p) => p.usd / p.per);
  return {
    usd: Math.max(0, ...rates),
    per: 1,
    unit,
    source: `no entry for ${model}: priced as the dearest model in the table`,
    asOf: '',
  };
}

/** US dollars for `units` of the price's unit. */
export function unitCost(price: UnitPrice, units: number): number {
  return (units * price.usd) / price.per;
}
