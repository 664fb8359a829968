/**
 * GET /delegation/stats and GET /memory/patterns through the real API, after real writes: the
 * Claude writer (real SDK, local fake Messages API) records its calls, escalations, fallback and
 * cache lookups in the environment's Postgres and Redis as a worker does, workers' circuit states
 * are published to Redis, and completed videos carry their cost. Both endpoints need a key with
 * the ops scope and are in the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pino from 'pino';
import { createApiKey } from '../../runtime/db/api-keys.js';
import { PatternMemory, policyFrom, recordWrite } from '../../runtime/db/pattern-memory.js';
import { createDatabase } from '../../runtime/db/pool.js';
import type { ProviderCall, ProviderEvents } from '../../runtime/providers/provider-events.js';
import { publishCircuitStates } from '../../runtime/queue/circuit-states.js';
import { closeRedis, createRedis } from '../../runtime/queue/connection.js';
import { RedisScriptCache } from '../../runtime/queue/script-cache.js';
import { ClaudeScriptWriter } from '../../runtime/stages/script/claude-writer.js';
import type { WriteReport } from '../../runtime/stages/script/delegation.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { allEvents, postgresProviderRecords } from '../../runtime/worker/delegation-records.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';

const CHEAP = 'claude-haiku-5-5';
const PREMIUM = 'claude-sonnet-5-5';

const environment = await useTestEnvironment({ PATTERN_MIN_ATTEMPTS: '2' });
const server = await startTestApi(environment);
const config = environment.config();
const db = createDatabase(config.database);
environment.defer(() => db.close());
const redis = createRedis(config.redis, { name: 'test', maxRetriesPerRequest: 1 });
environment.defer(() => closeRedis(redis));
const fake = await startFakeAnthropic();
after(() => fake.close());

const ops = await createApiKey(db.primary, 'ops', 'cli', { scopes: ['ops'] });
const videos = await createTestKey(environment);
const asOps = apiClient(server.url, ops.key);

// The writes, as a worker makes them: A is served by the cheap model; B's cheap answer is
// unusable and escalates; C fails on both models and falls back offline; D repeats A (cache hit).
const calls: ProviderCall[] = [];
const recorder: ProviderEvents = { call: (c) => calls.push(c), skip: () => {}, served: () => {} };
const writer = new ClaudeScriptWriter({
  apiKey: () => 'sk-ant-test',
  baseURL: fake.url,
  fallback: new OfflineScriptWriter(),
  maxRetries: 0,
  timeoutMs: 10_000,
  events: allEvents(recorder, postgresProviderRecords(db.primary, pino({ level: 'silent' }))),
  cache: new RedisScriptCache(redis, config.queue.prefix, 600),
  delegation: new PatternMemory(db.primary, policyFrom(config.delegation)),
});
fake.reply = (request) => {
  const prompt = request.messages[0]?.content ?? '';
  if (prompt.includes('seed: b') && request.model === CHEAP) return { kind: 'text', text: 'not json' };
  if (prompt.includes('seed: c')) return { kind: 'status', status: 500, errorType: 'api_error' };
  return { kind: 'script' };
};
const spec = {
  topic: 'letting go of work stress before sleep',
  durationSeconds: 60,
  aspect: '16:9' as const,
  resolution: '720p' as const,
  voice: 'slt' as const,
  style: 'sleep' as const,
  burnCaptions: false,
};
const writers: string[] = [];
for (const seed of ['a', 'b', 'c', 'a'])
  writers.push((await writer.write({ ...spec, seed }, new AbortController().signal)).writer);
assert.deepEqual(writers, [
  `anthropic:${CHEAP}`,
  `anthropic:${PREMIUM}`,
  'offline-template',
  `anthropic:${CHEAP}`,
]);

// Another pattern whose cheap answers failed validation twice: delegation starts it at premium.
const failing: WriteReport = {
  start: 'cheap',
  writer: `anthropic:${PREMIUM}`,
  cheap: 'invalid',
  premium: 'ok',
  validationFailures: 1,
  escalated: true,
  fellBack: false,
  costUsd: 0.01,
  latencyMs: 3000,
};
for (let i = 0; i < 2; i++)
  await recordWrite(db.primary, { style: 'focus', durationBand: 'long', topicClass: 'other' }, failing);

// Two workers report circuits; the API reports the worst per model.
await publishCircuitStates(redis, config.queue.prefix, 'worker-a', { [`anthropic:${PREMIUM}`]: 'open' }, 30);
await publishCircuitStates(
  redis,
  config.queue.prefix,
  'worker-b',
  { [`anthropic:${CHEAP}`]: 'half_open' },
  30,
);

// Completed videos: one in the last hour, one earlier today.
await db.primary.query(
  `INSERT INTO videos (id, spec, status, cost_usd, finished_at) VALUES
     (gen_random_uuid(), '{}', 'completed', 0.004, now() - interval '10 minutes'),
     (gen_random_uuid(), '{}', 'completed', 0.010, now() - interval '5 hours'),
     (gen_random_uuid(), '{}', 'failed', 0.5, now())`,
);

// The records are written without holding up the writes: wait for all twelve.
for (let tries = 0; ; tries++) {
  const { rows } = await db.primary.query<{ n: number }>('SELECT count(*)::int AS n FROM provider_events');
  if (rows[0]!.n === 12) break;
  assert.ok(tries < 100, `only ${rows[0]!.n} provider records`);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Postgres' percentile_cont over the values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * (sorted[Math.ceil(h)]! - sorted[lo]!);
}

const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);

test('/delegation/stats reports each model, the cache and the cost per completed video', async () => {
  const { status, body } = await asOps('GET', '/delegation/stats');
  assert.equal(status, 200, JSON.stringify(body));
  const byModel = Object.fromEntries(body.models.map((m: { model: string }) => [m.model, m]));
  assert.deepEqual(Object.keys(byModel).sort(), [CHEAP, PREMIUM]);
  for (const model of [CHEAP, PREMIUM]) {
    const mine = calls.filter((c) => c.model === model);
    const m = byModel[model];
    close(
      m.latencyP50Ms,
      percentile(
        mine.map((c) => c.latencyMs),
        0.5,
      ),
      `${model} p50`,
    );
    close(
      m.latencyP95Ms,
      percentile(
        mine.map((c) => c.latencyMs),
        0.95,
      ),
      `${model} p95`,
    );
    close(
      m.costUsd,
      mine.reduce((sum, c) => sum + c.costUsd, 0),
      `${model} cost`,
    );
    assert.equal(
      m.units.tokens,
      mine.reduce((sum, c) => sum + c.units, 0),
    );
    assert.equal(m.provider, 'anthropic');
  }
  const { latencyP50Ms: _a, latencyP95Ms: _b, costUsd: _c, units: _d, ...cheap } = byModel[CHEAP];
  assert.deepEqual(cheap, {
    provider: 'anthropic',
    model: CHEAP,
    calls: 3,
    successes: 1,
    validationFailures: 1,
    errors: 1,
    escalations: 2,
    fallbacks: 0,
    skips: 0,
    circuit: 'half_open',
    cacheHits: 1,
  });
  const { latencyP50Ms: _e, latencyP95Ms: _f, costUsd: _g, units: _h, ...premium } = byModel[PREMIUM];
  assert.deepEqual(premium, {
    provider: 'anthropic',
    model: PREMIUM,
    calls: 2,
    successes: 1,
    validationFailures: 0,
    errors: 1,
    escalations: 0,
    fallbacks: 1,
    skips: 0,
    circuit: 'open',
    cacheHits: 0,
  });
  assert.deepEqual(body.cache, { script: { hits: 1, misses: 3, hitRate: 0.25 } });
  assert.equal(body.costPerCompletedVideo.lastHour.videos, 1);
  close(body.costPerCompletedVideo.lastHour.averageCostUsd, 0.004, 'last hour');
  assert.equal(body.costPerCompletedVideo.lastDay.videos, 2);
  close(body.costPerCompletedVideo.lastDay.averageCostUsd, 0.007, 'last day');
  assert.ok(Date.parse(body.since) < Date.now() - 47 * 3_600_000);
});

test('/memory/patterns lists each pattern with its stats, the start delegation makes and when it was last used', async () => {
  const { status, body } = await asOps('GET', '/memory/patterns');
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.policy, { minAttempts: 2, minCheapSuccessRate: 0.5, probeEvery: 20 });
  assert.equal(body.retentionHours, 24);
  const [latest, sleep] = body.items;
  assert.equal(body.items.length, 2);
  assert.equal(latest.style, 'focus');
  assert.equal(latest.choice, 'premium');
  assert.equal(latest.cheapAttempts, 2);
  assert.equal(latest.cheapSuccesses, 0);
  close(latest.averageCostUsd, 0.01, 'average cost');
  close(latest.averageLatencyMs, 3000, 'average latency');
  const { lastUsedAt, costUsd, averageCostUsd, averageLatencyMs, ...stats } = sleep;
  assert.ok(Date.now() - Date.parse(lastUsedAt) < 60_000);
  close(
    costUsd,
    calls.reduce((sum, c) => sum + c.costUsd, 0),
    'pattern cost (every call was for it)',
  );
  assert.ok(averageCostUsd > 0 && averageLatencyMs > 0);
  assert.deepEqual(stats, {
    style: 'sleep',
    durationBand: 'short',
    topicClass: 'sleep',
    choice: 'cheap',
    writes: 3,
    cheapAttempts: 2,
    cheapSuccesses: 1,
    premiumAttempts: 1,
    premiumSuccesses: 1,
    validationFailures: 1,
    escalations: 2,
    fallbacks: 1,
    writers: { [`anthropic:${CHEAP}`]: 1, [`anthropic:${PREMIUM}`]: 1, 'offline-template': 1 },
    lastWriter: 'offline-template',
  });
});

test('both endpoints need a key with the ops scope: 401 without one, 403 with a videos key', async () => {
  for (const path of ['/delegation/stats', '/memory/patterns']) {
    const anonymous = await apiClient(server.url)('GET', path);
    assert.equal(anonymous.status, 401, path);
    assert.match(anonymous.body.message, /Authorization/);
    assert.ok(anonymous.body.requestId);
    const wrong = await apiClient(server.url, videos.key)('GET', path);
    assert.equal(wrong.status, 403, path);
    assert.match(wrong.body.message, /"ops" scope/);
    assert.equal(wrong.body.statusCode, 403);
  }
});

test('both endpoints and their response schemas are in the OpenAPI document', async () => {
  const doc = (await apiClient(server.url)('GET', '/docs/json')).body;
  const stats = doc.paths['/delegation/stats']?.get;
  const patterns = doc.paths['/memory/patterns']?.get;
  assert.ok(stats && patterns);
  for (const op of [stats, patterns]) {
    assert.deepEqual(op.security, [{ bearerAuth: [] }]);
    assert.deepEqual(op.tags, ['ops']);
    assert.ok(
      op.responses['401'] || op.responses['4XX'] || op.responses['4xx'],
      JSON.stringify(Object.keys(op.responses)),
    );
  }
  const statsSchema = stats.responses['200'].content['application/json'].schema;
  assert.ok(statsSchema.properties.models.items.properties.latencyP95Ms);
  assert.ok(statsSchema.properties.costPerCompletedVideo);
  const patternSchema = patterns.responses['200'].content['application/json'].schema;
  assert.deepEqual(patternSchema.properties.items.items.properties.choice.enum, ['cheap', 'premium']);
});
