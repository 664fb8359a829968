import { before, test } from 'node:test';
import { TIERS } from '../../stacks/tiers.js';
import { evaluateStack } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  assertGrafanaLinksTraces,
  assertRuntimeExportsTraces,
  assertTraceAndLogReleases,
} from './observability.js';

const tier = TIERS.staging;
let e: Evaluation;
before(async () => {
  e = await evaluateStack('staging');
});

test('staging deploys the trace collector, Jaeger, a log agent per node and Loki, sized from the tier', () => {
  assertTraceAndLogReleases(e, tier);
});

test('staging runtime sends its spans to the collector with the tier sampler (parent-based ratio)', () => {
  assertRuntimeExportsTraces(e, { sampler: 'parentbased_traceidratio', arg: '0.5' });
});

test('staging Grafana has Jaeger and Loki datasources and links exemplars to their traces', () => {
  assertGrafanaLinksTraces(e);
});
