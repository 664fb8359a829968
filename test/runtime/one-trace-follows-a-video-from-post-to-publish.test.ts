/**
 * The real API and worker (`archibald serve`, `archibald worker`) export their spans to a local
 * OTLP/HTTP receiver: the API in http/protobuf, the worker in http/json, so both encodings are
 * proven. One video renders (15 s, 720p, the cheapest), a second one fails in its narration stage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { apiClient, createTestKey } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { startPrometheus } from '../dashboards/prometheus-server.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import type { ReceivedSpan } from '../support/otlp-receiver.js';
import { eventually, runCli, spawnCli } from '../support/processes.js';

const SERVER = 2;
const ERROR = 2;

const receiver = await startOtlpReceiver();
after(() => receiver.close());
const anthropic = await startFakeAnthropic();
after(() => anthropic.close());
const ANTHROPIC_KEY = `sk-ant-trace-${randomUUID()}`;
const environment = await useTestEnvironment({ LOG_LEVEL: 'info', JOB_ATTEMPTS: '2' });
const tracing = {
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
  // The SDK's own batch delay (default 5 s), so spans arrive while the test waits.
  OTEL_BSP_SCHEDULE_DELAY: '200',
};
// Distinctive, so that finding it anywhere in a span is not a coincidence.
const TOPIC = `Quokka lighthouse reverie ${randomUUID().slice(0, 8)}`;
const FAILING_TOPIC = `Narwhal evensong ${randomUUID().slice(0, 8)}`;

/**
 * The trace's spans as an indented tree, for the failure messages (and the closing note); the
 * Postgres and Redis client spans under a span are counted on one line rather than listed.
 */
function tree(spans: ReceivedSpan[]): string {
  const lines: string[] = [];
  const database = (s: ReceivedSpan) => /^(pg[.-]|eval|evalsha$)/.test(s.name);
  const visit = (span: ReceivedSpan, depth: number) => {
    const status = span.status.code === ERROR ? ` [ERROR: ${span.status.message}]` : '';
    const events = span.events.length > 0 ? ` {${span.events.map((e) => e.name).join(', ')}}` : '';
    lines.push(`${'  '.repeat(depth)}${span.name} (${span.service})${status}${events}`);
    const children = spans.filter((s) => s.parentSpanId === span.spanId);
    const pg = children.filter((s) => database(s) && s.name.startsWith('pg')).length;
    const redis = children.filter((s) => database(s) && !s.name.startsWith('pg')).length;
    if (pg + redis > 0) lines.push(`${'  '.repeat(depth + 1)}· ${pg} postgres, ${redis} redis spans`);
    for (const child of children.filter((s) => !database(s))) visit(child, depth + 1);
  };
  const ids = new Set(spans.map((s) => s.spanId));
  for (const root of spans.filter((s) => !ids.has(s.parentSpanId))) visit(root, 0);
  return lines.join('\n');
}

function ancestors(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (let at = span; ;) {
    const parent = spans.find((s) => s.spanId === at.parentSpanId);
    if (!parent) return out;
    out.push(parent);
    at = parent;
  }
}

test('one trace follows a video from the POST through the queue, its stages and ffmpeg runs, to publish; a failed stage is an error', async (t) => {
  assert.equal((await runCli(environment, ['migrate'])).code, 0);
  const { key } = await createTestKey(environment);
  const serve = spawnCli(environment, ['serve'], {
    ...tracing,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  });
  const [, apiUrl] = await serve.waitFor(/"address":"(http:\/\/[^"]+)"/);
  const [, apiMetricsUrl] = await serve.waitFor(/"metrics":"(http:\/\/[^"]+)"/);
  const call = apiClient(apiUrl!, key);
  // The script comes from Claude (the real SDK against a local fake), so its call is traced too.
  const worker = spawnCli(environment, ['worker'], {
    ...tracing,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
  });
  const [, workerMetricsUrl] = await worker.waitFor(/"metrics":"(http:\/\/[^"]+)"/);
  await worker.waitFor(/worker taking jobs/);
  // A real Prometheus scrapes both OpenMetrics pages and keeps their exemplars.
  const prometheus = await startPrometheus({
    rulesYaml: 'groups: []\n',
    targets: [
      { job: 'archibald-api', url: apiMetricsUrl! },
      { job: 'archibald-worker', url: workerMetricsUrl! },
    ],
    features: ['exemplar-storage'],
  });
  environment.defer(() => prometheus.stop());

  const created = await call('POST', '/v1/videos', {
    body: { topic: TOPIC, durationSeconds: 15, resolution: '720p' },
  });
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const videoId = created.body.id as string;
  const done = await eventually(
    'the video completed',
    async () => {
      const r = await call('GET', `/v1/videos/${videoId}`);
      if (r.body.status === 'failed') throw new Error(`video failed: ${JSON.stringify(r.body.error)}`);
      return r.body.status === 'completed' ? r.body : undefined;
    },
    240_000,
    500,
  );
  assert.ok(done.links.file);
  // With tracing on, /metrics is OpenMetrics, whose histograms carry exemplars.
  const workerMetrics = await fetch(`${workerMetricsUrl}/metrics`);
  assert.match(workerMetrics.headers.get('content-type') ?? '', /^application\/openmetrics-text/);
  const renderExemplar =
    /^archibald_video_render_duration_seconds_bucket\{[^}]*\} 1 # \{trace_id="([0-9a-f]{32})"\}/m.exec(
      await workerMetrics.text(),
    );
  assert.ok(renderExemplar, 'no exemplar on archibald_video_render_duration_seconds');
  const apiMetrics = await (await fetch(`${apiMetricsUrl}/metrics`)).text();
  const postExemplar =
    /^archibald_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/videos",method="POST"[^}]*\} 1 # \{trace_id="([0-9a-f]{32})"\}/m.exec(
      apiMetrics,
    );
  assert.ok(
    postExemplar,
    `no exemplar on the POST's latency:\n${apiMetrics
      .split('\n')
      .filter((l) => l.includes('POST'))
      .join('\n')}`,
  );

  const scraped = await eventually(
    'Prometheus holds the exemplars',
    async () => {
      const [render, http] = await Promise.all([
        prometheus.exemplars('archibald_video_render_duration_seconds_bucket'),
        prometheus.exemplars(
          'archibald_http_request_duration_seconds_bucket{route="/v1/videos",method="POST"}',
        ),
      ]);
      const ids = (series: typeof render) => series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
      return ids(render).length > 0 && ids(http).length > 0
        ? { render: ids(render), http: ids(http) }
        : undefined;
    },
    20_000,
    500,
  );

  // A worker whose asset cache is a file, not a directory: narration fails, on both attempts.
  await worker.stop();
  const notADirectory = join(environment.dir, 'not-a-directory');
  await writeFile(notADirectory, '');
  const failing = spawnCli(environment, ['worker'], {
    ...tracing,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    ASSET_CACHE_DIR: join(notADirectory, 'cache'),
  });
  await failing.waitFor(/worker taking jobs/);
  const doomed = await call('POST', '/v1/videos', { body: { topic: FAILING_TOPIC, durationSeconds: 15 } });
  const failedVideo = await eventually(
    'the second video failed',
    async () => {
      const r = await call('GET', `/v1/videos/${doomed.body.id as string}`);
      return r.body.status === 'failed' ? r.body : undefined;
    },
    120_000,
    500,
  );

  // SIGTERM: each process flushes its spans in its graceful shutdown.
  for (const child of [failing, serve]) {
    child.process.kill('SIGTERM');
    assert.equal((await child.exited).code, 0, child.output());
  }

  // ---- the rendered video's trace ----
  const post = receiver.spans.find(
    (s) =>
      s.kind === SERVER &&
      s.attributes['http.request.method'] === 'POST' &&
      s.attributes['http.route'] === '/v1/videos',
  );
  assert.ok(post, `no POST /v1/videos server span among:\n${tree(receiver.spans)}`);
  const spans = receiver.spans.filter((s) => s.traceId === post.traceId);
  const shown = tree(spans);
  t.diagnostic(`the trace of video ${videoId}:`);
  for (const line of shown.split('\n')) t.diagnostic(line);
  const attempt = spans.find(
    (s) => s.name === 'video attempt' && s.attributes['archibald.video.id'] === videoId,
  );
  assert.ok(attempt, `no attempt span in the POST's trace:\n${shown}`);
  assert.equal(attempt.service, 'archibald-worker');
  assert.equal(post.service, 'archibald-api');
  assert.ok(ancestors(spans, attempt).includes(post), `the attempt is not under the POST:\n${shown}`);
  assert.equal(attempt.attributes['archibald.job.attempt'], 1);
  assert.equal(typeof attempt.attributes['archibald.queue.wait_ms'], 'number');

  const stages = spans.filter((s) => s.name.startsWith('stage '));
  assert.deepEqual(
    stages.map((s) => s.name),
    ['script', 'narration', 'visuals', 'captions', 'ambient', 'assemble', 'publish'].map((n) => `stage ${n}`),
  );
  for (const stage of stages)
    assert.equal(stage.parentSpanId, attempt.spanId, `${stage.name} is not the attempt's child`);
  const assemble = stages.find((s) => s.name === 'stage assemble')!;
  const assembleRuns = spans.filter((s) => s.name === 'ffmpeg' && s.parentSpanId === assemble.spanId);
  assert.ok(assembleRuns.length > 0, `no ffmpeg span under assemble:\n${shown}`);
  for (const run of spans.filter((s) => s.name === 'ffmpeg')) {
    assert.equal(run.attributes['process.executable.name'], 'ffmpeg');
    assert.ok(
      stages.some((s) => s.spanId === run.parentSpanId),
      'an ffmpeg span outside a stage',
    );
  }
  assert.ok(
    (assembleRuns[0]!.attributes['archibald.ffmpeg.codecs'] as string[]).length > 0,
    JSON.stringify(assembleRuns[0]!.attributes),
  );
  // The Claude call: a span under the script stage, with the HTTP request (undici) under it.
  const chat = spans.find((s) => s.name.startsWith('chat ') && s.parentSpanId === stages[0]!.spanId);
  assert.ok(chat, `no model call span under the script stage:\n${shown}`);
  assert.equal(chat.attributes['archibald.outcome'], 'ok');
  assert.equal(typeof chat.attributes['gen_ai.usage.output_tokens'], 'number');
  assert.ok(Number(chat.attributes['archibald.cost_usd']) > 0);
  assert.ok(
    spans.some(
      (s) => s.parentSpanId === chat.spanId && s.kind === 3 && s.attributes['http.request.method'] === 'POST',
    ),
    `no HTTP client span under the model call:\n${shown}`,
  );

  // The instrumentations: Postgres and Redis (the enqueue) under the POST, Postgres under the stages.
  const postgres = spans.filter((s) => s.name.startsWith('pg.query'));
  assert.ok(
    postgres.some((s) => s.parentSpanId === post.spanId),
    `no Postgres span under the POST:\n${shown}`,
  );
  assert.ok(postgres.some((s) => ancestors(spans, s).includes(stages[0]!)));
  assert.ok(
    spans.some((s) => s.service === 'archibald-api' && s.attributes['db.system.name'] === 'redis'),
    `no Redis span from the API:\n${shown}`,
  );
  assert.equal(renderExemplar[1], post.traceId, 'the render time exemplar is not the video trace');
  assert.equal(postExemplar[1], post.traceId, "the POST's latency exemplar is not its trace");
  assert.ok(
    scraped.render.includes(post.traceId) && scraped.http.includes(post.traceId),
    JSON.stringify(scraped),
  );

  // ---- the failed video's trace ----
  const failedAttempts = receiver.spans.filter(
    (s) => s.name === 'video attempt' && s.attributes['archibald.video.id'] === failedVideo.id,
  );
  assert.equal(failedAttempts.length, 2, tree(receiver.spans));
  t.diagnostic(`the trace of video ${failedVideo.id as string}, which failed:`);
  for (const line of tree(receiver.spans.filter((s) => s.traceId === failedAttempts[0]!.traceId)).split('\n'))
    t.diagnostic(line);
  const narration = receiver.spans.filter(
    (s) => s.name === 'stage narration' && failedAttempts.some((a) => a.spanId === s.parentSpanId),
  );
  assert.equal(narration.length, 2);
  for (const stage of narration) {
    assert.equal(stage.status.code, ERROR);
    assert.equal(stage.status.message, failedVideo.error.message);
    assert.ok(stage.events.some((e) => e.name === 'exception'));
  }
  assert.equal(failedVideo.error.stage, 'narration');
  const [first, second] = failedAttempts.sort(
    (a, b) => Number(a.attributes['archibald.job.attempt']) - Number(b.attributes['archibald.job.attempt']),
  );
  assert.ok(
    first!.events.some((e) => e.name === 'job.retry_scheduled'),
    'no retry event on attempt 1',
  );
  assert.equal(second!.attributes['archibald.job.final'], true);
  assert.equal(first!.traceId, second!.traceId, 'the retry left the trace');

  // ---- nothing the user wrote, nor the key, in any span ----
  // Redis spans name the command only (their arguments hold keys with client addresses, job data).
  for (const span of receiver.spans.filter((s) => s.attributes['db.system.name'] === 'redis'))
    assert.match(String(span.attributes['db.query.text']), /^\w+$/, JSON.stringify(span.attributes));
  for (const span of receiver.spans) {
    const text = JSON.stringify(span);
    for (const secret of [TOPIC, FAILING_TOPIC, key, ANTHROPIC_KEY, 'Quokka', 'Narwhal'])
      assert.ok(!text.includes(secret), `span ${span.name} carries ${secret}: ${text}`);
  }

  // ---- the encodings, and logs that lead to the trace ----
  assert.deepEqual([...receiver.contentTypes.get('archibald-api')!], ['application/x-protobuf']);
  assert.deepEqual([...receiver.contentTypes.get('archibald-worker')!], ['application/json']);
  const started = worker
    .output()
    .split('\n')
    .find((line) => line.includes('"job started"') && line.includes(videoId));
  assert.ok(started);
  const ids = JSON.parse(started) as { trace_id?: string; span_id?: string };
  assert.equal(ids.trace_id, post.traceId);
  assert.equal(ids.span_id, attempt.spanId);
});
