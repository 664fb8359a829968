/**
 * The Claude script writer with the real SDK against a local fake of the Messages API: a valid
 * answer, escalation from the cheap model to the premium one, the offline fallback, retries of
 * 429 (honouring retry-after) and 529, the circuit breaker, the budget stop, cancel, and the cost
 * of each call priced from its usage.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { VideoSpec } from '../../runtime/pipeline/stage.js';
import {
  ClaudeScriptWriter,
  SYSTEM_PROMPT,
  type ClaudeWriterOptions,
} from '../../runtime/stages/script/claude-writer.js';
import type { ProviderEvents } from '../../runtime/providers/provider-events.js';
import { validateScript } from '../../runtime/stages/script/document.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { costOf, DEFAULT_PRICES } from '../../runtime/stages/script/prices.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';

const CHEAP = 'claude-haiku-5-5';
const PREMIUM = 'claude-sonnet-5-5';
const spec: VideoSpec = {
  topic: 'letting go of work stress before sleep',
  durationSeconds: 60,
  aspect: '16:9',
  resolution: '720p',
  voice: 'slt',
  style: 'sleep',
  burnCaptions: false,
  seed: 'claude-test',
};

let fake: FakeAnthropic;
before(async () => {
  fake = await startFakeAnthropic();
});
after(() => fake.close());
beforeEach(() => {
  fake.received.length = 0;
  fake.reply = () => ({ kind: 'script' });
});

interface Recorded {
  costs: Array<[string, number]>;
  calls: string[];
  skips: string[];
  written: string[];
}

function setup(options: Partial<ClaudeWriterOptions> = {}) {
  const recorded: Recorded = { costs: [], calls: [], skips: [], written: [] };
  const events: ProviderEvents = {
    call: (call) => recorded.calls.push(`${call.model} ${call.outcome}`),
    skip: (_provider, model, reason) => recorded.skips.push(`${model} ${reason}`),
    served: (_task, by) => recorded.written.push(by),
  };
  const writer = new ClaudeScriptWriter({
    apiKey: () => 'sk-ant-test',
    baseURL: fake.url,
    fallback: new OfflineScriptWriter(),
    maxRetries: 1,
    timeoutMs: 10_000,
    events,
    ...options,
  });
  const write = (signal = new AbortController().signal) =>
    writer.write(spec, signal, {
      addCost: (provider, usd) => recorded.costs.push([provider, usd]),
      spentUsd: () => recorded.costs.reduce((sum, [, usd]) => sum + usd, 0),
    });
  return { writer, recorded, write };
}

const models = () => fake.received.map((r) => r.model);

test('a valid answer from the cheap model is the script, asked for as structured output with a cached system prompt', async () => {
  const { write, recorded } = setup();
  const doc = await write();
  assert.equal(doc.writer, `anthropic:${CHEAP}`);
  assert.deepEqual(validateScript(doc, spec), []);
  assert.equal(doc.topic, spec.topic);
  assert.deepEqual(models(), [CHEAP]);
  const body = fake.received[0]!.body;
  assert.equal(body.output_config?.format?.type, 'json_schema');
  assert.deepEqual(body.system?.[0]?.cache_control, { type: 'ephemeral' });
  assert.equal(body.system?.[0]?.text, SYSTEM_PROMPT);
  assert.match(body.messages[0]!.content, /Topic: letting go of work stress before sleep/);
  assert.deepEqual(recorded.calls, [`${CHEAP} ok`]);
  assert.deepEqual(recorded.written, [`anthropic:${CHEAP}`]);
});

test('each call is priced from its usage: a cache write first, a cache read after', async () => {
  const { write, recorded } = setup();
  await write();
  await write();
  const price = DEFAULT_PRICES[CHEAP]!;
  const systemTokens = Math.ceil(SYSTEM_PROMPT.length / 4);
  const userTokens = Math.ceil(fake.received[0]!.body.messages[0]!.content.length / 4);
  assert.equal(recorded.costs.length, 2);
  assert.equal(recorded.costs[0]![0], 'anthropic');
  // The fake wrote this model's cache in an earlier test; the first call here may read it.
  const read = costOf(price, {
    input_tokens: userTokens,
    output_tokens: fake.outputTokens,
    cache_read_input_tokens: systemTokens,
  });
  const write1 = costOf(price, {
    input_tokens: userTokens,
    output_tokens: fake.outputTokens,
    cache_creation_input_tokens: systemTokens,
  });
  assert.ok(Math.abs(recorded.costs[1]![1] - read) < 1e-12, `${recorded.costs[1]![1]} vs ${read}`);
  assert.ok([read, write1].some((c) => Math.abs(recorded.costs[0]![1] - c) < 1e-12));
  assert.ok(write1 > read);
  // 420 output tokens at $5/MTok dominate: about two tenths of a cent.
  assert.ok(read > 0.002 && read < 0.003, String(read));
});

test('invalid JSON from the cheap model escalates to the premium model, and both calls are paid', async () => {
  fake.reply = (request) =>
    request.model === CHEAP ? { kind: 'text', text: '{"title": "oops", ' } : { kind: 'script' };
  const { write, recorded } = setup();
  const doc = await write();
  assert.equal(doc.writer, `anthropic:${PREMIUM}`);
  assert.deepEqual(validateScript(doc, spec), []);
  assert.deepEqual(models(), [CHEAP, PREMIUM]);
  assert.deepEqual(recorded.calls, [`${CHEAP} invalid`, `${PREMIUM} ok`]);
  assert.equal(recorded.costs.length, 2);
  assert.ok(recorded.costs[1]![1] > recorded.costs[0]![1], 'the premium call costs more');
});

test('when both models fail after their retries, the offline writer writes the script', async () => {
  fake.reply = () => ({ kind: 'status', status: 500, errorType: 'api_error' });
  const { write, recorded } = setup({ maxRetries: 1 });
  const doc = await write();
  assert.equal(doc.writer, 'offline-template');
  assert.deepEqual(validateScript(doc, spec), []);
  // One retry each.
  assert.deepEqual(models(), [CHEAP, CHEAP, PREMIUM, PREMIUM]);
  assert.deepEqual(recorded.calls, [`${CHEAP} error`, `${PREMIUM} error`]);
  assert.deepEqual(recorded.costs, [], 'failed calls cost nothing');
  assert.deepEqual(recorded.written, ['offline-template']);
});

test('a 429 is retried after the retry-after the API asks for', async () => {
  fake.reply = (_request, index) =>
    index === 0
      ? { kind: 'status', status: 429, errorType: 'rate_limit_error', headers: { 'retry-after': '1' } }
      : { kind: 'script' };
  const { write } = setup({ maxRetries: 2 });
  const doc = await write();
  assert.equal(doc.writer, `anthropic:${CHEAP}`);
  assert.deepEqual(models(), [CHEAP, CHEAP]);
  const waited = fake.received[1]!.at - fake.received[0]!.at;
  assert.ok(waited >= 950, `retried after ${waited} ms, not the 1 s retry-after`);
});

test('a model that stays overloaded (529) is retried with backoff, then the premium model answers', async () => {
  fake.reply = (request) =>
    request.model === CHEAP
      ? { kind: 'status', status: 529, errorType: 'overloaded_error' }
      : { kind: 'script' };
  const { write, recorded } = setup({ maxRetries: 2 });
  const doc = await write();
  assert.equal(doc.writer, `anthropic:${PREMIUM}`);
  assert.deepEqual(models(), [CHEAP, CHEAP, CHEAP, PREMIUM]);
  assert.deepEqual(recorded.calls, [`${CHEAP} error`, `${PREMIUM} ok`]);
  const first = fake.received[0]!.at;
  assert.ok(fake.received[2]!.at - first >= 1000, 'backoff between the attempts');
});

test('after repeated failures a model is skipped for its cool-down, and the skips are counted', async () => {
  let now = 1_000_000;
  fake.reply = (request) =>
    request.model === CHEAP ? { kind: 'status', status: 503, errorType: 'api_error' } : { kind: 'script' };
  const { write, writer, recorded } = setup({
    maxRetries: 0,
    circuitFailures: 2,
    circuitCooldownMs: 60_000,
    now: () => now,
  });
  await write();
  await write();
  assert.equal(writer.circuits.isOpen(CHEAP), true);
  fake.received.length = 0;
  const doc = await write();
  assert.equal(doc.writer, `anthropic:${PREMIUM}`);
  assert.deepEqual(models(), [PREMIUM], 'the cheap model is not called while its circuit is open');
  assert.deepEqual(recorded.skips, [`${CHEAP} circuit_open`]);
  now += 61_000;
  fake.received.length = 0;
  fake.reply = () => ({ kind: 'script' });
  const again = await write();
  assert.equal(again.writer, `anthropic:${CHEAP}`, 'after the cool-down the cheap model is tried again');
  assert.equal(writer.circuits.isOpen(CHEAP), false);
});

test('escalation stops before the video budget would be crossed, and the offline writer takes over', async () => {
  fake.reply = (request) =>
    request.model === CHEAP ? { kind: 'text', text: 'not json' } : { kind: 'script' };
  const probe = setup().writer;
  const cheapWorst = probe.maxCallCost(CHEAP, spec);
  const premiumWorst = probe.maxCallCost(PREMIUM, spec);
  assert.ok(premiumWorst > cheapWorst);
  const { write, recorded } = setup({ budgetUsd: cheapWorst + premiumWorst / 2 });
  const doc = await write();
  assert.equal(doc.writer, 'offline-template');
  assert.deepEqual(models(), [CHEAP], 'the premium call would cross the budget');
  assert.deepEqual(recorded.skips, [`${PREMIUM} budget`]);
  const spent = recorded.costs.reduce((sum, [, usd]) => sum + usd, 0);
  assert.ok(spent <= cheapWorst + premiumWorst / 2);

  fake.received.length = 0;
  const none = await setup({ budgetUsd: 0 }).write();
  assert.equal(none.writer, 'offline-template');
  assert.equal(fake.received.length, 0, 'a zero budget calls no model');
});

test('cancel during a slow answer aborts the request: the fake sees the connection closed', async () => {
  fake.reply = () => ({ kind: 'slow', ms: 5000 });
  const { write, recorded } = setup();
  const controller = new AbortController();
  const writing = write(controller.signal);
  while (fake.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const started = Date.now();
  controller.abort(new Error('cancelled'));
  await assert.rejects(writing);
  assert.ok(Date.now() - started < 1000, 'the write stops at once');
  for (let i = 0; i < 100 && !fake.received[0]!.aborted; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(fake.received[0]!.aborted, true);
  assert.deepEqual(models(), [CHEAP], 'no escalation and no offline script after a cancel');
  assert.deepEqual(recorded.written, []);
});
