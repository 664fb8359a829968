import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { STYLES, StageError, type StageContext, type VideoSpec } from '../../runtime/pipeline/stage.js';
import {
  countWords,
  speechFits,
  validateScript,
  wordBudget,
  type ScriptDocument,
} from '../../runtime/stages/script/document.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { createScriptStage } from '../../runtime/stages/script/stage.js';
import type { ScriptWriter } from '../../runtime/stages/script/writer.js';
import { standardSpec } from './stage-runner.js';

const writer = new OfflineScriptWriter();
const signal = new AbortController().signal;

test('every style and duration from 15 s to 600 s gives a valid script', async () => {
  for (const [style, seed] of STYLES.flatMap((style) =>
    ['a', 'b', 'standard'].map((seed) => [style, seed] as const),
  )) {
    for (const durationSeconds of [15, 30, 60, 120, 300, 600]) {
      const spec: VideoSpec = { ...standardSpec, style, seed, durationSeconds };
      const doc = await writer.write(spec, signal);
      assert.deepEqual(validateScript(doc, spec), [], `${style} ${durationSeconds}s`);
      assert.equal(doc.sections[0]?.kind, 'settle');
      assert.equal(doc.sections.at(-1)?.kind, 'close');
      const budget = wordBudget(durationSeconds);
      assert.ok(
        doc.wordCount >= budget.min && doc.wordCount <= budget.max,
        `${style} ${durationSeconds}s: ${doc.wordCount} words`,
      );
    }
  }
});

test('the same spec and seed give the same script; another seed or topic another one', async () => {
  const a = await writer.write(standardSpec, signal);
  const b = await writer.write({ ...standardSpec }, signal);
  const otherSeed = await writer.write({ ...standardSpec, seed: 'another seed' }, signal);
  const otherTopic = await writer.write({ ...standardSpec, topic: 'letting go of the day' }, signal);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.sections, otherSeed.sections);
  assert.notDeepEqual(a.sections, otherTopic.sections);
  assert.equal(a.title, 'Morning Calm');
});

test('the topic is spoken, without characters that would reach markup', async () => {
  const doc = await writer.write({ ...standardSpec, topic: 'rain {on} <the> roof\\', seed: 'x' }, signal);
  const text = doc.sections.flatMap((s) => s.segments.map((x) => x.text)).join(' ');
  assert.doesNotMatch(text, /[{}<>\\]/);
});

test('validation names what is wrong', () => {
  const doc: ScriptDocument = {
    title: 'T',
    topic: 't',
    style: 'calm',
    durationSeconds: 60,
    writer: 'hand',
    wordCount: 3,
    sections: [
      { kind: 'breath', segments: [{ text: 'Breathe in slowly.', pauseAfterSeconds: 1 }] },
      { kind: 'close', segments: [] },
    ],
  };
  const problems = validateScript(doc, { durationSeconds: 60 });
  assert.ok(problems.some((p) => p.includes('open with a settle section')));
  assert.ok(problems.some((p) => p.includes('neither a body nor a theme')));
  assert.ok(problems.some((p) => p.includes('section 2 (close) is empty')));
  assert.ok(problems.some((p) => /has 3 words; a 60 s video needs \d+-\d+/.test(p)));
  assert.equal(countWords('Breathe — in, slowly.'), 3);
});

test('the script stage refuses a script that fails validation', async () => {
  const sloppy: ScriptWriter = {
    name: 'sloppy',
    write: async (spec) => ({ ...(await writer.write(spec, signal)), sections: [] }),
  };
  const ctx: StageContext = {
    videoId: 'v',
    spec: standardSpec,
    workDir: '/nonexistent',
    signal,
    outputs: {},
    progress: () => {},
    addCost: () => {},
    spentUsd: () => 0,
    log: pino({ level: 'silent' }),
  };
  await assert.rejects(createScriptStage(sloppy).run(ctx), (error: unknown) => {
    assert.ok(error instanceof StageError);
    assert.equal(error.stage, 'script');
    assert.match(error.message, /sloppy writer produced an unusable script: the script has no sections/);
    return true;
  });
});

test('a short video never gets more lines than the voice can say in it, whatever the seed', async () => {
  // A 15 s script of many one- and two-word lines once took 12.6 s to say and failed narration.
  for (const style of STYLES) {
    for (let i = 0; i < 150; i++) {
      const doc = await writer.write({ ...standardSpec, durationSeconds: 15, style, seed: `short-${i}` });
      const lines = doc.sections.flatMap((s) => s.segments.map((seg) => seg.text));
      assert.ok(speechFits(lines, 15), `${style} seed short-${i}: ${lines.length} lines do not fit 15 s`);
      assert.deepEqual(validateScript(doc, { durationSeconds: 15 }), []);
    }
  }
});
