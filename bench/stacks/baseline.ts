/** Baseline for run.ts: the same process start and Pulumi SDK load, with an empty program. */
import { performance } from 'node:perf_hooks';
import * as pulumi from '@pulumi/pulumi';

const started = performance.now();
await pulumi.runtime.setMocks(
  { newResource: () => ({ id: 'x', state: {} }), call: () => ({}) },
  'archibald',
  'baseline',
  false,
);
console.log(JSON.stringify({ stack: 'baseline', totalMs: Math.round(performance.now() - started) }));
