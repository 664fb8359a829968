/**
 * Child process of the plan command: evaluates the given stacks of one checkout (`--root`, the
 * current repository or the base ref's worktree) one after the other with evaluateStack, the same
 * evaluation the tests run, and writes their snapshots as JSON to `--out`. A separate process per
 * checkout because Pulumi's runtime is global to a process; one process for all of a checkout's
 * stacks because loading the SDKs is most of an evaluation's cost.
 *
 *   node --import tsx stacks/plan/evaluate-stacks.ts --root <dir> --out <file> <stack>...
 *
 * PLAN_SECRET_KEY keys the secret digests (shared by both sides of a plan, never printed).
 * On an evaluation error it writes `{ "error": { "stack", "message" } }` and exits 3.
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { evaluateStack } from './evaluate.js';
import { snapshotResources } from './snapshot.js';
import type { StackSnapshot } from './snapshot.js';

const { values, positionals } = parseArgs({
  options: { root: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
});
if (!values.root || !values.out || positionals.length === 0) {
  console.error('usage: evaluate-stacks.ts --root <dir> --out <file> <stack>...');
  process.exit(2);
}
const key = process.env.PLAN_SECRET_KEY || randomBytes(16).toString('hex');

const snapshots: StackSnapshot[] = [];
for (const stack of positionals) {
  try {
    const e = await evaluateStack(stack, { root: values.root });
    if (e.unknownTypes.length > 0 || e.unknownCalls.length > 0)
      throw new Error(
        `the evaluation met resource types or invokes it has no mock for: ${[...e.unknownTypes, ...e.unknownCalls].join(', ')}`,
      );
    snapshots.push({ stack, resources: snapshotResources(e.resources, key), evaluationMs: e.evaluationMs });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    writeFileSync(values.out, JSON.stringify({ error: { stack, message } }));
    process.exit(3);
  }
}
writeFileSync(values.out, JSON.stringify({ stacks: snapshots }));
// Pulumi's mock runtime may keep handles open; the snapshots are written.
process.exit(0);
