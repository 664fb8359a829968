/**
 * One stack evaluation under mocks (child process of run.ts: Pulumi's runtime is per process).
 * Prints one JSON line: the stack, its resource count by type, and the timings.
 */
import { performance } from 'node:perf_hooks';
import { countByType, evaluateStack } from '../../test/stacks/harness.js';

const stack = process.argv[2];
if (!stack) {
  console.error('usage: node --import tsx bench/stacks/evaluate.ts <dev|staging|prod>');
  process.exit(2);
}
const started = performance.now();
const e = await evaluateStack(stack);
const totalMs = performance.now() - started;
if (e.unknownTypes.length > 0 || e.unknownCalls.length > 0) {
  console.error(`unknown types ${e.unknownTypes.join(', ')} / calls ${e.unknownCalls.join(', ')}`);
  process.exit(1);
}
console.log(
  JSON.stringify({
    stack,
    resources: e.resources.length,
    byType: countByType(e),
    programMs: Math.round(e.evaluationMs),
    totalMs: Math.round(totalMs),
  }),
);
