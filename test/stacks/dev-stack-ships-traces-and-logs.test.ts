import { before, test } from 'node:test';
import { TIERS } from '../../stacks/tiers.js';
import { evaluateStack } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertGrafanaLinksTraces,
  assertRuntimeExportsTraces,
  assertTraceAndLogReleases,
} from './observability.js';

const tier = TIERS.dev;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('dev');
});

test('dev deploys the trace collector, Jaeger, a log agent per node and Loki, sized from the tier', () => {
  assertTraceAndLogReleases(e, tier);
});

test('dev runtime sends its spans to the collector with the tier sampler (every trace)', () => {
  assertRuntimeExportsTraces(e, { sampler: 'parentbased_always_on' });
});

test('dev Grafana has Jaeger and Loki datasources and links exemplars to their traces', () => {
  assertGrafanaLinksTraces(e);
});
