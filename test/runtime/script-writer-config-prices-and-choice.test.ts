/**
 * The Claude writer's configuration: the model and budget variables, the price table and its
 * override file, and the choice of writer (Claude with an Anthropic key, offline without).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Model } from '@anthropic-ai/sdk/resources/messages/messages';
import { ConfigError, closeConfig, loadConfig } from '../../runtime/config/load.js';
import {
  ClaudeScriptWriter,
  DEFAULT_CHEAP_MODEL,
  DEFAULT_PREMIUM_MODEL,
} from '../../runtime/stages/script/claude-writer.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { costOf, DEFAULT_PRICES, loadPrices, priceOf } from '../../runtime/stages/script/prices.js';
import { scriptWriter } from '../../runtime/worker/pipeline-stages.js';

const dir = await mkdtemp(join(tmpdir(), 'archibald-prices-'));
after(() => rm(dir, { recursive: true, force: true }));

test('the script model variables default to the SDK-named haiku and sonnet models and a 0.10 USD budget', () => {
  const config = loadConfig({});
  const defaults: Model[] = ['claude-haiku-5-5', 'claude-sonnet-5-5'];
  assert.deepEqual([config.scriptModels.cheap, config.scriptModels.premium], defaults);
  assert.deepEqual([DEFAULT_CHEAP_MODEL, DEFAULT_PREMIUM_MODEL], defaults);
  assert.equal(config.scriptModels.videoBudgetUsd, 0.1);
  assert.equal(config.scriptModels.baseUrl, undefined);
});

test('the script model variables are read, and a bad budget or base URL is refused', () => {
  const config = loadConfig({
    SCRIPT_MODEL_CHEAP: 'claude-haiku-4-5',
    SCRIPT_MODEL_PREMIUM: 'claude-sonnet-4-6',
    VIDEO_BUDGET_USD: '0.02',
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999/',
  });
  assert.equal(config.scriptModels.cheap, 'claude-haiku-4-5');
  assert.equal(config.scriptModels.premium, 'claude-sonnet-4-6');
  assert.equal(config.scriptModels.videoBudgetUsd, 0.02);
  assert.equal(config.scriptModels.baseUrl, 'http://127.0.0.1:9999');
  assert.throws(
    () => loadConfig({ VIDEO_BUDGET_USD: 'cheap', ANTHROPIC_BASE_URL: 'ftp://x' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.issues.some((i) => i.variable === 'VIDEO_BUDGET_USD') &&
      error.issues.some((i) => i.variable === 'ANTHROPIC_BASE_URL'),
  );
});

test('every built-in price names its source and date, and a cost is priced per token kind', () => {
  for (const [model, price] of Object.entries(DEFAULT_PRICES)) {
    assert.match(price.source, /https:\/\//, model);
    assert.match(price.asOf, /^\d{4}-\d{2}-\d{2}$/, model);
  }
  const usd = costOf(DEFAULT_PRICES['claude-haiku-5-5']!, {
    input_tokens: 1_000_000,
    output_tokens: 1_000_000,
    cache_creation_input_tokens: 1_000_000,
    cache_read_input_tokens: 1_000_000,
  });
  assert.equal(usd, 1 + 5 + 1.25 + 0.1);
  // A model the table does not know is priced as the dearest one, never as free.
  assert.equal(priceOf(DEFAULT_PRICES, 'claude-unknown').outputPerMTok, 15);
});

test('MODEL_PRICES_FILE replaces and adds entries; a malformed one is an error', async () => {
  const file = join(dir, 'prices.json');
  await writeFile(
    file,
    JSON.stringify({
      'claude-haiku-5-5': {
        inputPerMTok: 2,
        outputPerMTok: 8,
        cacheWritePerMTok: 2.5,
        cacheReadPerMTok: 0.2,
      },
      'my-model': { inputPerMTok: 0, outputPerMTok: 0, cacheWritePerMTok: 0, cacheReadPerMTok: 0 },
    }),
  );
  const table = loadPrices(file);
  assert.equal(table['claude-haiku-5-5']!.outputPerMTok, 8);
  assert.equal(table['my-model']!.inputPerMTok, 0);
  assert.equal(table['claude-sonnet-5-5']!.outputPerMTok, 15);
  await writeFile(file, JSON.stringify({ x: { inputPerMTok: 'a lot' } }));
  assert.throws(() => loadPrices(file), /x\.inputPerMTok must be a number/);
});

test('an Anthropic key selects the Claude writer (offline as its fallback); without one, offline', () => {
  const offline = loadConfig({});
  assert.ok(scriptWriter(offline) instanceof OfflineScriptWriter);
  const withKey = loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-test' });
  const writer = scriptWriter(withKey);
  assert.ok(writer instanceof ClaudeScriptWriter);
  assert.deepEqual(writer.models, ['claude-haiku-5-5', 'claude-sonnet-5-5']);
  closeConfig(withKey);
});
