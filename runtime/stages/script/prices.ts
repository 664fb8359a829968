/**
 * What a Claude call costs, priced from the response's `usage`: a table of US dollars per million
 * tokens per model, kept here as data with the source and the date of each figure. A JSON file
 * of the same shape (MODEL_PRICES_FILE) replaces or adds models without a release.
 *
 * Anthropic bills four kinds of tokens: plain input, cache writes (5-minute cache, 1.25 x input),
 * cache reads (0.1 x input) and output. Failed requests carry no usage and cost nothing.
 */
import { readFileSync } from 'node:fs';

export interface ModelPrice {
  /** USD per million input tokens. */
  inputPerMTok: number;
  /** USD per million output tokens. */
  outputPerMTok: number;
  /** USD per million tokens written to the 5-minute prompt cache. */
  cacheWritePerMTok: number;
  /** USD per million tokens read from the prompt cache. */
  cacheReadPerMTok: number;
  /** Where the figures come from, and how sure they are. */
  source: string;
  /** When the source was read (YYYY-MM-DD). */
  asOf: string;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * The built-in figures. Neither `claude-haiku-5-5` nor `claude-sonnet-5-5` appeared on a pricing
 * page that could be read when this table was written: their rows carry the figures of the
 * current Haiku and Sonnet tiers and say so. Check https://www.anthropic.com/pricing and override
 * with MODEL_PRICES_FILE when they differ.
 */
export const DEFAULT_PRICES: PriceTable = {
  'claude-haiku-5-5': {
    inputPerMTok: 1,
    outputPerMTok: 5,
    cacheWritePerMTok: 1.25,
    cacheReadPerMTok: 0.1,
    source:
      'NOT VERIFIED for claude-haiku-5-5: the Claude Haiku 4.5 tier ($1 in, $5 out, cache write 1.25x, read 0.1x) as reported by https://dev.to/toshanthistack/what-does-the-claude-api-actually-cost-june-2026-9mh (June 2026), multipliers per https://docs.anthropic.com/en/docs/about-claude/pricing',
    asOf: '2026-06-01',
  },
  'claude-sonnet-5-5': {
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheWritePerMTok: 3.75,
    cacheReadPerMTok: 0.3,
    source:
      'NOT VERIFIED for claude-sonnet-5-5: the Sonnet tier ($3 in, $15 out, $3.75 cache write, $0.30 cache read) as listed for Claude Sonnet 4 on https://docs.anthropic.com/en/docs/about-claude/pricing and for Sonnet 4.6 in June 2026',
    asOf: '2026-06-01',
  },
  'claude-haiku-4-5': {
    inputPerMTok: 1,
    outputPerMTok: 5,
    cacheWritePerMTok: 1.25,
    cacheReadPerMTok: 0.1,
    source:
      'https://dev.to/toshanthistack/what-does-the-claude-api-actually-cost-june-2026-9mh (third-party, "prices verified June 2026")',
    asOf: '2026-06-01',
  },
  'claude-sonnet-4-6': {
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheWritePerMTok: 3.75,
    cacheReadPerMTok: 0.3,
    source:
      'https://dev.to/toshanthistack/what-does-the-claude-api-actually-cost-june-2026-9mh (third-party, "prices verified June 2026")',
    asOf: '2026-06-01',
  },
};

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** The table with MODEL_PRICES_FILE's entries over the built-in ones; a bad file is an error. */
export function loadPrices(file?: string): PriceTable {
  if (!file) return DEFAULT_PRICES;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${file}: not a JSON object`);
  const table: Record<string, ModelPrice> = { ...DEFAULT_PRICES };
  for (const [model, value] of Object.entries(parsed as Record<string, unknown>)) {
    const p = value as Partial<ModelPrice>;
    for (const key of ['inputPerMTok', 'outputPerMTok', 'cacheWritePerMTok', 'cacheReadPerMTok'] as const) {
      if (typeof p[key] !== 'number' || !(p[key] >= 0))
        throw new Error(`${file}: ${model}.${key} must be a number >= 0`);
    }
    table[model] = { source: file, asOf: '', ...p } as ModelPrice;
  }
  return table;
}

/**
 * A model's price; a model the table does not know is priced as the dearest one it does, so a
 * budget is never undercounted.
 */
export function priceOf(table: PriceTable, model: string): ModelPrice {
  const known = table[model];
  if (known) return known;
  const all = Object.values(table);
  const max = (key: keyof Omit<ModelPrice, 'source' | 'asOf'>) => Math.max(0, ...all.map((p) => p[key]));
  return {
    inputPerMTok: max('inputPerMTok'),
    outputPerMTok: max('outputPerMTok'),
    cacheWritePerMTok: max('cacheWritePerMTok'),
    cacheReadPerMTok: max('cacheReadPerMTok'),
    source: `no entry for ${model}: priced as the dearest model in the table`,
    asOf: '',
  };
}

/** US dollars for one call's usage. */
export function costOf(price: ModelPrice, usage: TokenUsage): number {
  return (
    (usage.input_tokens * price.inputPerMTok +
      usage.output_tokens * price.outputPerMTok +
      (usage.cache_creation_input_tokens ?? 0) * price.cacheWritePerMTok +
      (usage.cache_read_input_tokens ?? 0) * price.cacheReadPerMTok) /
    1_000_000
  );
}
