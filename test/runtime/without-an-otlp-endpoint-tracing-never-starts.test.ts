import assert from 'node:assert/strict';
import { test } from 'node:test';
import { propagation, trace } from '@opentelemetry/api';
import { ConfigError, loadConfig, loadTracingConfig } from '../../runtime/config/load.js';
import { createProcessMetrics } from '../../runtime/metrics/registry.js';
import { startTracing } from '../../runtime/telemetry/start.js';
import { traceCarrier } from '../../runtime/telemetry/spans.js';

test('without OTEL_EXPORTER_OTLP_ENDPOINT no SDK starts: spans are no-ops and nothing rides in the job', async () => {
  // The other OTEL_* variables alone do not turn tracing on.
  const config = loadTracingConfig({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.equal(config, undefined);
  assert.equal(await startTracing('serve', config), undefined);
  assert.equal(await startTracing('worker', config), undefined);

  const span = trace.getTracer('archibald').startSpan('probe');
  assert.equal(span.isRecording(), false, 'a tracer provider was registered');
  span.end();
  assert.deepEqual(propagation.fields(), [], 'a propagator was registered');
  assert.equal(traceCarrier(), undefined);
  assert.equal(loadConfig({}).tracing, undefined);
  // Classic text exposition, no exemplars.
  assert.match(createProcessMetrics('worker', '0.0.0').registry.contentType, /^text\/plain/);
});

test('only serve and worker trace, and a bad OTEL_* value stops the command with its name', async () => {
  const config = loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
  assert.deepEqual(config, {
    endpoint: 'http://127.0.0.1:4318',
    protocol: 'http/protobuf',
    sampler: 'parentbased_always_on',
  });
  for (const command of ['migrate', 'keys', 'render', undefined])
    assert.equal(await startTracing(command, config), undefined, `${command} started tracing`);

  const bad = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
  assert.equal(loadTracingConfig(bad), undefined);
  assert.throws(
    () => loadConfig({ ...bad, OTEL_TRACES_SAMPLER_ARG: '2' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /OTEL_EXPORTER_OTLP_PROTOCOL="grpc": must be one of http\/protobuf, http\/json/.test(error.message) &&
      /OTEL_TRACES_SAMPLER_ARG="2": must be <= 1/.test(error.message),
  );
});
