/**
 * The stage loop's spans, with the SDK's in-memory exporter in this process: one span per stage
 * that runs, under the caller's (the worker's attempt); a failed stage is an error with the loop's
 * message, an aborted one is not an error but an event, a reused one is an event on the attempt.
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { pino } from 'pino';
import { StageRunError, runStages } from '../../runtime/pipeline/run-stages.js';
import type { StoredStage } from '../../runtime/pipeline/run-stages.js';
import type { Stage, StageName } from '../../runtime/pipeline/stage.js';
import { inSpan } from '../../runtime/telemetry/spans.js';
import { standardSpec } from './stage-runner.js';

const exporter = new tracing.InMemorySpanExporter();
const provider = new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
provider.register();
after(() => provider.shutdown());
const workDir = await mkdtemp(join(tmpdir(), 'archibald-stage-spans-'));
after(() => rm(workDir, { recursive: true, force: true }));
beforeEach(() => exporter.reset());

function stage(name: StageName, behaviour: 'ok' | 'fail' | 'wait' = 'ok'): Stage<{ file: string }> {
  return {
    name,
    async run(ctx) {
      ctx.addCost('test-provider', 0.01);
      if (behaviour === 'fail') throw new Error('disk on fire');
      if (behaviour === 'wait')
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', reject, { once: true }));
      await writeFile(join(ctx.workDir, `${name}.txt`), name);
      return { file: `${name}.txt` };
    },
    isReusable: (output, ctx) =>
      access(join(ctx.workDir, output.file)).then(
        () => true,
        () => false,
      ),
  };
}

function attempt(
  stages: Stage[],
  options: { signal?: AbortSignal; stored?: Map<StageName, StoredStage> } = {},
) {
  return inSpan('video attempt', { statusByCaller: true }, () =>
    runStages(stages, {
      videoId: 'video-1',
      spec: standardSpec,
      workDir,
      signal: options.signal ?? new AbortController().signal,
      log: pino({ level: 'silent' }),
      ...(options.stored
        ? {
            recorder: {
              completed: async () => options.stored!,
              started: async () => true,
              finished: async () => true,
            },
          }
        : {}),
    }),
  );
}

const spanNamed = (name: string) => {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  assert.ok(
    span,
    `no span ${name}: ${exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .join(', ')}`,
  );
  return span;
};

test('each stage that runs is a span under the attempt; a failed one is an error with the recorded message', async () => {
  await assert.rejects(attempt([stage('script'), stage('narration', 'fail')]), StageRunError);
  const parent = spanNamed('video attempt');
  const script = spanNamed('stage script');
  const narration = spanNamed('stage narration');
  for (const s of [script, narration]) assert.equal(s.parentSpanContext?.spanId, parent.spanContext().spanId);
  assert.equal(script.status.code, SpanStatusCode.UNSET);
  assert.equal(script.attributes['archibald.cost_usd'], 0.01);
  assert.deepEqual(narration.status, {
    code: SpanStatusCode.ERROR,
    message: 'narration failed: disk on fire',
  });
  assert.ok(narration.events.some((e) => e.name === 'exception'));
});

test('an aborted stage is an event, not an error', async () => {
  const controller = new AbortController();
  const run = attempt([stage('script', 'wait')], { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('cancelled by request')), 50);
  await assert.rejects(run, StageRunError);
  const script = spanNamed('stage script');
  assert.equal(script.status.code, SpanStatusCode.UNSET);
  assert.deepEqual(
    script.events.map((e) => [e.name, e.attributes?.['archibald.reason']]),
    [['stage.aborted', 'cancelled by request']],
  );
});

test('a stage reused from an earlier attempt is an event on the attempt, not a span', async () => {
  await writeFile(join(workDir, 'script.txt'), 'script');
  const stored = new Map<StageName, StoredStage>([
    ['script', { output: { file: 'script.txt' }, costUsd: 0.01 }],
  ]);
  await attempt([stage('script'), stage('narration')], { stored });
  assert.ok(!exporter.getFinishedSpans().some((s) => s.name === 'stage script'));
  spanNamed('stage narration');
  assert.deepEqual(
    spanNamed('video attempt').events.map((e) => [e.name, e.attributes?.['archibald.stage']]),
    [['stage.reused', 'script']],
  );
});
