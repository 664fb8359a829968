/**
 * Stack evaluation time: each stack evaluated under Pulumi's mocks in its own process, three
 * rounds, against a baseline process (node + tsx + the Pulumi SDK, empty program) measured in the
 * same run. Prints wall time per process, the program's own evaluation time, and the ratio.
 *
 *   node --import tsx bench/stacks/run.ts [rounds]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rounds = Number(process.argv[2] ?? 3);

function timed(script: string, arg?: string): { wallMs: number; report: Record<string, unknown> } {
  const started = performance.now();
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, ...(arg ? [arg] : [])], {
    cwd: root,
    encoding: 'utf8',
  });
  const wallMs = performance.now() - started;
  const line = out.trim().split('\n').pop() ?? '{}';
  return { wallMs, report: JSON.parse(line) as Record<string, unknown> };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const baseline: number[] = [];
const results: Record<string, { wall: number[]; program: number[]; report: Record<string, unknown> }> = {};
for (let round = 0; round < rounds; round++) {
  baseline.push(timed('bench/stacks/baseline.ts').wallMs);
  for (const stack of ['dev', 'staging', 'prod']) {
    const { wallMs, report } = timed('bench/stacks/evaluate.ts', stack);
    const r = (results[stack] ??= { wall: [], program: [], report });
    r.wall.push(wallMs);
    r.program.push(Number(report.programMs));
  }
}

const base = median(baseline);
console.log(
  `baseline process (node + tsx + @pulumi/pulumi, empty program): ${base.toFixed(0)} ms (median of ${rounds})`,
);
for (const [stack, r] of Object.entries(results)) {
  const wall = median(r.wall);
  console.log(
    `${stack}: ${String(r.report.resources)} resources; program ${median(r.program).toFixed(0)} ms; process ${wall.toFixed(0)} ms = ${(wall / base).toFixed(2)}x baseline`,
  );
  for (const [type, count] of Object.entries(r.report.byType as Record<string, number>))
    console.log(`    ${String(count).padStart(3)}  ${type}`);
}
