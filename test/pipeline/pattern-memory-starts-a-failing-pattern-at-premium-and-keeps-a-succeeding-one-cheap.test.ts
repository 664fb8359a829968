/**
 * Pattern memory in a real Postgres database of its own, read by the Claude writer (real SDK,
 * local fake Messages API): a pattern whose cheap answers keep failing validation starts at the
 * premium model once it has had its chances, a pattern the cheap model serves stays cheap, and a
 * memory that cannot be reached leaves writes starting cheap. Plus the pure parts: topic classes,
 * duration bands and the decision rule.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import pg from 'pg';
import { migrate } from '../../runtime/db/migrate.js';
import { PatternMemory, readPattern } from '../../runtime/db/pattern-memory.js';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import { ClaudeScriptWriter } from '../../runtime/stages/script/claude-writer.js';
import {
  chooseStart,
  DEFAULT_POLICY,
  durationBand,
  patternOf,
  topicClass,
} from '../../runtime/stages/script/delegation.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';

const CHEAP = 'claude-haiku-5-5';
const PREMIUM = 'claude-sonnet-5-5';
const base: VideoSpec = {
  topic: 'letting go of work stress before sleep',
  durationSeconds: 60,
  aspect: '16:9',
  resolution: '720p',
  voice: 'slt',
  style: 'sleep',
  burnCaptions: false,
  seed: 'pattern',
};
const policy = { minAttempts: 3, minCheapSuccessRate: 0.5, probeEvery: 4 };

let database: TestDatabase;
let pool: pg.Pool;
let fake: FakeAnthropic;
before(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await migrate(pool);
  fake = await startFakeAnthropic();
});
after(async () => {
  await fake.close();
  await pool.end();
  await database.drop();
});
beforeEach(() => {
  fake.received.length = 0;
});

function writer(memory: PatternMemory) {
  const w = new ClaudeScriptWriter({
    apiKey: () => 'sk-ant-test',
    baseURL: fake.url,
    fallback: new OfflineScriptWriter(),
    maxRetries: 0,
    timeoutMs: 10_000,
    delegation: memory,
  });
  return (spec: VideoSpec) => w.write(spec, new AbortController().signal);
}

test('topics fall into coarse classes by their words, and durations into bands', () => {
  assert.equal(topicClass('letting go of work stress before sleep'), 'sleep');
  assert.equal(topicClass('  Easing ANXIETY  '), 'stress');
  assert.equal(topicClass('morning calm'), 'stress');
  assert.equal(topicClass('focus for deep work'), 'focus');
  assert.equal(topicClass('thankful for friends'), 'gratitude');
  assert.equal(topicClass('relaxing tight shoulders'), 'stress');
  assert.equal(topicClass('a body scan'), 'body');
  assert.equal(topicClass('the ocean'), 'other');
  assert.equal(topicClass('   '), 'other');
  assert.deepEqual([15, 90, 91, 300, 301, 600].map(durationBand), [
    'short',
    'short',
    'medium',
    'medium',
    'long',
    'long',
  ]);
  assert.deepEqual(patternOf(base), { style: 'sleep', durationBand: 'short', topicClass: 'sleep' });
});

test('the rule starts cheap until the cheap model has had its chances, then by its success rate, probing now and then', () => {
  const p = { minAttempts: 5, minCheapSuccessRate: 0.5, probeEvery: 20 };
  assert.equal(chooseStart(undefined, p), 'cheap');
  assert.equal(chooseStart({ cheapAttempts: 4, cheapSuccesses: 0, premiumStreak: 0 }, p), 'cheap');
  assert.equal(chooseStart({ cheapAttempts: 5, cheapSuccesses: 2, premiumStreak: 0 }, p), 'premium');
  assert.equal(chooseStart({ cheapAttempts: 6, cheapSuccesses: 3, premiumStreak: 0 }, p), 'cheap');
  assert.equal(chooseStart({ cheapAttempts: 5, cheapSuccesses: 0, premiumStreak: 19 }, p), 'premium');
  assert.equal(chooseStart({ cheapAttempts: 5, cheapSuccesses: 0, premiumStreak: 20 }, p), 'cheap');
  assert.equal(DEFAULT_POLICY.minAttempts, 5);
});

test('a pattern whose cheap answers keep failing starts at premium; one the cheap model serves stays cheap', async () => {
  const write = writer(new PatternMemory(pool, policy));
  const failing = base; // sleep pattern: the cheap model answers unusable JSON
  const serving: VideoSpec = { ...base, style: 'focus', topic: 'focus before an exam' };
  fake.reply = (request) =>
    request.model === CHEAP && request.messages[0]?.content.includes('Style: sleep')
      ? { kind: 'text', text: '{"title": "not a script"}' }
      : { kind: 'script' };

  for (let i = 0; i < policy.minAttempts; i++) {
    fake.received.length = 0;
    const doc = await write({ ...failing, seed: `fail-${i}` });
    assert.equal(doc.writer, `anthropic:${PREMIUM}`);
    assert.deepEqual(
      fake.received.map((r) => r.model),
      [CHEAP, PREMIUM],
      `write ${i} escalates`,
    );
    await write({ ...serving, seed: `serve-${i}` });
  }
  const memory = await readPattern(pool, patternOf(failing));
  assert.ok(memory);
  assert.equal(memory.cheapAttempts, policy.minAttempts);
  assert.equal(memory.cheapSuccesses, 0);
  assert.equal(memory.validationFailures, policy.minAttempts);
  assert.equal(memory.escalations, policy.minAttempts);
  assert.equal(memory.premiumSuccesses, policy.minAttempts);
  assert.deepEqual(memory.writers, { [`anthropic:${PREMIUM}`]: policy.minAttempts });
  assert.ok(memory.costUsd > 0 && memory.latencyMs > 0);

  fake.received.length = 0;
  assert.equal((await write({ ...failing, seed: 'next' })).writer, `anthropic:${PREMIUM}`);
  assert.deepEqual(
    fake.received.map((r) => r.model),
    [PREMIUM],
    'the failing pattern starts at premium',
  );

  fake.received.length = 0;
  assert.equal((await write({ ...serving, seed: 'next' })).writer, `anthropic:${CHEAP}`);
  assert.deepEqual(
    fake.received.map((r) => r.model),
    [CHEAP],
    'the serving pattern stays cheap',
  );
  const served = await readPattern(pool, patternOf(serving));
  assert.equal(served?.cheapSuccesses, policy.minAttempts + 1);
  assert.equal(served?.escalations, 0);

  // After probeEvery premium starts, the cheap model gets another chance.
  for (let i = 1; i < policy.probeEvery; i++) await write({ ...failing, seed: `streak-${i}` });
  fake.received.length = 0;
  await write({ ...failing, seed: 'probe' });
  assert.deepEqual(
    fake.received.map((r) => r.model),
    [CHEAP, PREMIUM],
    'a probe of the cheap model',
  );
  assert.equal((await readPattern(pool, patternOf(failing)))?.premiumStreak, 0);
});

test('pattern memory that cannot be reached leaves the write starting cheap', async () => {
  // Nothing listens on port 1.
  const down = new pg.Pool({
    connectionString: 'postgres://postgres@127.0.0.1:1/none',
    connectionTimeoutMillis: 500,
  });
  after(() => down.end());
  fake.reply = () => ({ kind: 'script' });
  const doc = await writer(new PatternMemory(down, policy))({ ...base, seed: 'no-memory' });
  assert.equal(doc.writer, `anthropic:${CHEAP}`);
  assert.deepEqual(
    fake.received.map((r) => r.model),
    [CHEAP],
  );
});
