/**
 * ElevenLabs and FAL configuration: off without their keys, on with a key or a key file, their
 * models and base URLs with defaults; the media price table names a source and date for every
 * figure and a file overrides it; and the shared HTTP rules read `retry-after` in both its forms.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, closeConfig, loadConfig } from '../../runtime/config/load.js';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import {
  httpCall,
  isRetryableStatus,
  ProviderHttpError,
  retryAfterMs,
} from '../../runtime/providers/http-call.js';
import {
  DEFAULT_MEDIA_PRICES,
  loadMediaPrices,
  unitCost,
  unitPriceOf,
} from '../../runtime/providers/media-prices.js';
import { mediaOptions } from '../../runtime/worker/pipeline-stages.js';

const dir = await mkdtemp(join(tmpdir(), 'archibald-media-'));
after(() => rm(dir, { recursive: true, force: true }));

test('without their keys neither ElevenLabs nor FAL is used, and the defaults name their models', () => {
  const config = loadConfig({});
  assert.deepEqual(mediaOptions(config), {});
  assert.deepEqual(config.elevenLabs, {
    baseUrl: 'https://api.elevenlabs.io',
    voiceId: '21m00Tcm4TlvDq8ikWAM',
    model: 'eleven_flash_v2_5',
  });
  assert.deepEqual(config.fal, { baseUrl: 'https://fal.run', model: 'fal-ai/flux/schnell' });
});

test('a key or a key file turns each provider on, sharing the video budget and the price file', async () => {
  const keyFile = join(dir, 'fal-key');
  await writeFile(keyFile, 'fal-from-file\n');
  const config = loadConfig({
    ELEVENLABS_API_KEY: 'xi-env',
    ELEVENLABS_BASE_URL: 'http://127.0.0.1:9/',
    ELEVENLABS_MODEL: 'eleven_multilingual_v2',
    FAL_KEY_FILE: keyFile,
    FAL_MODEL: 'fal-ai/flux/dev',
    VIDEO_BUDGET_USD: '0.1',
    MEDIA_PRICES_FILE: join(dir, 'prices.json'),
  });
  try {
    const options = mediaOptions(config);
    assert.equal(options.narration?.elevenlabs?.apiKey(), 'xi-env');
    assert.equal(options.narration?.elevenlabs?.baseUrl, 'http://127.0.0.1:9');
    assert.equal(options.narration?.elevenlabs?.model, 'eleven_multilingual_v2');
    assert.equal(options.visuals?.fal?.apiKey(), 'fal-from-file');
    assert.equal(options.visuals?.fal?.model, 'fal-ai/flux/dev');
    assert.equal(options.narration?.elevenlabs?.budgetUsd, 0.1);
    assert.equal(options.visuals?.fal?.budgetUsd, 0.1);
    assert.equal(options.visuals?.fal?.pricesFile, join(dir, 'prices.json'));
  } finally {
    closeConfig(config);
  }
  assert.throws(
    () => loadConfig({ FAL_KEY: 'a', FAL_KEY_FILE: keyFile, ELEVENLABS_BASE_URL: 'ftp://x' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.issues.some((i) => i.variable === 'FAL_KEY' && i.value === '[secret]') &&
      error.issues.some((i) => i.variable === 'ELEVENLABS_BASE_URL'),
  );
});

test('every built-in voice and image price names its source and date; a file overrides or adds', async () => {
  for (const [provider, table] of Object.entries(DEFAULT_MEDIA_PRICES))
    for (const [model, price] of Object.entries(table)) {
      assert.match(price.source, /https:\/\//, `${provider} ${model}`);
      assert.match(price.asOf, /^\d{4}-\d{2}-\d{2}$/, `${provider} ${model}`);
    }
  const flash = unitPriceOf(DEFAULT_MEDIA_PRICES.elevenlabs, 'eleven_flash_v2_5', 'characters');
  assert.ok(Math.abs(unitCost(flash, 2000) - 0.1) < 1e-12);
  const file = join(dir, 'media.json');
  await writeFile(
    file,
    JSON.stringify({
      elevenlabs: { eleven_flash_v2_5: { usd: 0.06, per: 1000, unit: 'characters' } },
      fal: { 'fal-ai/new-model': { usd: 0.01, per: 1, unit: 'images' } },
    }),
  );
  const prices = loadMediaPrices(file);
  assert.equal(prices.elevenlabs.eleven_flash_v2_5?.usd, 0.06);
  assert.equal(prices.elevenlabs.eleven_multilingual_v2?.usd, 0.1, 'the other rows stay');
  assert.equal(prices.fal['fal-ai/new-model']?.unit, 'images');
  // A model the table does not know is priced as the dearest of its unit, never as free.
  assert.equal(unitPriceOf(prices.elevenlabs, 'eleven_unknown', 'characters').usd, 0.0001);
  await writeFile(file, JSON.stringify({ fal: { x: { usd: -1, per: 1, unit: 'images' } } }));
  assert.throws(() => loadMediaPrices(file), /usd must be a number >= 0/);
});

test('retry-after is read in seconds or as an HTTP date; 408, 409, 429 and 5xx are retried', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' }), now), 2000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Mon, 30 Nov 2026 12:00:05 GMT' }), now), 5000);
  assert.equal(retryAfterMs(new Headers({}), now), undefined);
  assert.deepEqual(
    [400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 529].filter(isRetryableStatus),
    [408, 409, 429, 500, 502, 503, 529],
  );
});

test('retryAfterSend false: a request that never reached the provider is retried, one that may have been processed is not', async () => {
  // A port nothing listens on: the connection is refused, so nothing was sent or billed.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const options = { signal: new AbortController().signal, timeoutMs: 300, maxRetries: 2, baseDelayMs: 1 };
  const refused = await httpCall(`http://127.0.0.1:${port}/`, { method: 'POST' }, (r) => r.text(), {
    ...options,
    retryAfterSend: false,
  }).catch((error: unknown) => error);
  assert.ok(refused instanceof ProviderHttpError);
  assert.equal(refused.attempts, 3);
  // A server that takes the request and never answers: the attempt times out after sending.
  let requests = 0;
  const sockets: Socket[] = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
    socket.once('data', () => (requests += 1));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address() as AddressInfo;
  try {
    const unanswered = await httpCall(
      `http://127.0.0.1:${address.port}/`,
      { method: 'POST', body: '{}' },
      (r) => r.text(),
      { ...options, retryAfterSend: false },
    ).catch((error: unknown) => error);
    assert.ok(unanswered instanceof ProviderHttpError);
    assert.equal(unanswered.attempts, 1);
    assert.match(unanswered.message, /may have been processed/);
    assert.equal(requests, 1);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
