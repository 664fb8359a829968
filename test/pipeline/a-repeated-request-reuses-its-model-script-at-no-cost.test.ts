/**
 * The script response cache in real Redis (a key prefix of its own), in front of the Claude
 * writer talking to the local fake Messages API: an identical request (topic differing only in
 * case and spacing) reuses the model's script with no call and no cost; the offline fallback's
 * scripts are not cached; and a Redis that cannot answer never fails a write.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import type { DelegationEvent, ProviderEvents } from '../../runtime/providers/provider-events.js';
import { closeRedis, createRedis, type RedisClient } from '../../runtime/queue/connection.js';
import { RedisScriptCache } from '../../runtime/queue/script-cache.js';
import { ClaudeScriptWriter } from '../../runtime/stages/script/claude-writer.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import {
  normaliseTopic,
  scriptCacheKey,
  type ScriptCache,
} from '../../runtime/stages/script/script-cache.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { deleteKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';

const spec: VideoSpec = {
  topic: 'Morning calm',
  durationSeconds: 60,
  aspect: '16:9',
  resolution: '720p',
  voice: 'slt',
  style: 'calm',
  burnCaptions: false,
  seed: 'cache-test',
};

const prefix = testKeyPrefix();
let fake: FakeAnthropic;
let redis: RedisClient;
before(async () => {
  fake = await startFakeAnthropic();
  redis = createRedis({ url: TEST_REDIS_URL, tls: false }, { name: 'test-cache', maxRetriesPerRequest: 1 });
});
after(async () => {
  await fake.close();
  await closeRedis(redis);
  await deleteKeys(prefix);
});
beforeEach(async () => {
  fake.received.length = 0;
  fake.reply = () => ({ kind: 'script' });
  await deleteKeys(prefix);
});

function setup(cache: ScriptCache) {
  const costs: number[] = [];
  const steps: DelegationEvent[] = [];
  const served: string[] = [];
  const events: ProviderEvents = {
    call: () => {},
    skip: () => {},
    served: (_task, by) => served.push(by),
    delegation: (event) => steps.push(event),
  };
  const writer = new ClaudeScriptWriter({
    apiKey: () => 'sk-ant-test',
    baseURL: fake.url,
    fallback: new OfflineScriptWriter(),
    maxRetries: 0,
    timeoutMs: 10_000,
    events,
    cache,
  });
  const write = (s: VideoSpec) =>
    writer.write(s, new AbortController().signal, {
      addCost: (_provider, usd) => costs.push(usd),
      spentUsd: () => 0,
    });
  return { write, costs, steps, served };
}

test('the cache key normalises the topic and covers style, duration, voice and seed', () => {
  assert.equal(normaliseTopic('  Morning \t  CALM \n'), 'morning calm');
  const key = scriptCacheKey(spec);
  assert.equal(scriptCacheKey({ ...spec, topic: ' morning   calm ' }), key);
  assert.equal(scriptCacheKey({ ...spec, aspect: '9:16', resolution: '1080p', burnCaptions: true }), key);
  for (const other of [
    { topic: 'evening calm' },
    { style: 'sleep' as const },
    { durationSeconds: 120 },
    { voice: 'awb' as const },
    { seed: 'another' },
  ])
    assert.notEqual(scriptCacheKey({ ...spec, ...other }), key, JSON.stringify(other));
});

test('an identical request reuses the model script with no call and no cost', async () => {
  const { write, costs, steps, served } = setup(new RedisScriptCache(redis, prefix, 60));
  const first = await write(spec);
  assert.equal(first.writer, 'anthropic:claude-haiku-5-5');
  assert.equal(fake.received.length, 1);
  assert.equal(costs.length, 1);
  assert.ok(costs[0]! > 0);

  const again = await write({ ...spec, topic: '  MORNING   calm' });
  assert.equal(fake.received.length, 1, 'no second call');
  assert.equal(costs.length, 1, 'no cost recorded for the hit');
  assert.deepEqual(again.sections, first.sections);
  assert.equal(again.writer, first.writer);
  assert.equal(again.topic, '  MORNING   calm', 'the request keeps its own topic');
  assert.deepEqual(
    steps.map((s) => (s.kind === 'cache' ? `${s.result} ${s.model ?? ''}`.trim() : s.kind)),
    ['miss', 'hit claude-haiku-5-5'],
  );
  assert.deepEqual(served, [first.writer, first.writer]);
  assert.ok((await redis.ttl(`${prefix}:script-cache:${scriptCacheKey(spec)}`)) > 0, 'the entry expires');
});

test('a script from the offline fallback is not cached', async () => {
  fake.reply = () => ({ kind: 'status', status: 500, errorType: 'api_error' });
  const { write } = setup(new RedisScriptCache(redis, prefix, 60));
  assert.equal((await write(spec)).writer, 'offline-template');
  const calls = fake.received.length;
  fake.reply = () => ({ kind: 'script' });
  assert.equal((await write(spec)).writer, 'anthropic:claude-haiku-5-5');
  assert.equal(fake.received.length, calls + 1, 'the second request asked the model');
});

test('a Redis that cannot answer does not fail the write', async () => {
  // Nothing listens on port 1: every command fails (after one reconnect attempt).
  const down = createRedis(
    { url: 'redis://127.0.0.1:1', tls: false },
    { name: 'test-down', maxRetriesPerRequest: 1 },
  );
  after(() => down.disconnect());
  const { write, costs, steps } = setup(new RedisScriptCache(down, prefix, 60));
  const doc = await write(spec);
  assert.equal(doc.writer, 'anthropic:claude-haiku-5-5');
  assert.equal(fake.received.length, 1);
  assert.equal(costs.length, 1);
  assert.deepEqual(steps, [], 'a failed lookup is neither a hit nor a miss');
});

test('a cache TTL of 0 is refused: 0 means no cache at all', () => {
  assert.throws(() => new RedisScriptCache(redis, prefix, 0), /TTL above 0/);
});
