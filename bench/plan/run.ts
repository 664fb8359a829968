/**
 * Plan time: the plan command for all three stacks against a base ref (a temporary worktree of the
 * ref, both checkouts evaluated under mocks, diffed, risk assessed, JSON printed), as one process,
 * against a baseline measured in the same run: the bare evaluation of the same three stacks with the
 * stack tests' harness (bench/stacks/evaluate.ts, one process per stack, one after the other).
 * The issue's target: under 15 s for the plan.
 *
 * Both are timed as wall time and as CPU time (user + system of the process and its children, from
 * /usr/bin/time): on a machine shared with other work the wall time stretches, the CPU time less so.
 *
 *   node --import tsx bench/plan/run.ts [rounds] [base-ref]    (defaults: 3, HEAD)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rounds = Number(process.argv[2] ?? 3);
const base = process.argv[3] ?? 'HEAD';
const STACKS = ['dev', 'staging', 'prod'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Timed {
  wallMs: number;
  cpuMs: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node with `args` under /usr/bin/time for its CPU time (children included). */
function timed(args: string[]): Timed {
  const dir = mkdtempSync(join(tmpdir(), 'bench-plan-'));
  const out = join(dir, 'time');
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', out, process.execPath, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PLAN_TIMINGS: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  const last = readFileSync(out, 'utf8').trim().split('\n').pop() ?? '0 0';
  const [user = 0, sys = 0] = last.split(' ').map(Number);
  rmSync(dir, { recursive: true, force: true });
  return { wallMs, cpuMs: (user + sys) * 1000, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function baseline(): { wallMs: number; cpuMs: number } {
  let wallMs = 0;
  let cpuMs = 0;
  for (const stack of STACKS) {
    const t = timed(['--import', 'tsx', 'bench/stacks/evaluate.ts', stack]);
    if (t.status !== 0) throw new Error(`evaluate ${stack} exited ${String(t.status)}: ${t.stderr}`);
    wallMs += t.wallMs;
    cpuMs += t.cpuMs;
  }
  return { wallMs, cpuMs };
}

interface StackDoc {
  stack: string;
  resources: number;
  summary: Record<string, number>;
  dataLoss: boolean;
  cost: { monthlyUsd: number; deltaUsd: number | null } | null;
  policy: { mandatory: number; advisory: number };
}

function planAll(): { wallMs: number; cpuMs: number; assessMs: number; docs: StackDoc[] } {
  const args = ['--stack', STACKS.join(','), '--base', base, '--json', '--allow-data-loss'];
  const t = timed(['--import', 'tsx', 'stacks/plan/cli.ts', ...args]);
  if (t.status !== 0) throw new Error(`plan exited ${String(t.status)}: ${t.stderr}`);
  const timings = /plan timings: (\{.*\})/.exec(t.stderr)?.[1];
  const assessMs = timings ? (JSON.parse(timings) as { assessMs: number }).assessMs : NaN;
  return { ...t, assessMs, docs: JSON.parse(t.stdout) as StackDoc[] };
}

const baselines: { wallMs: number; cpuMs: number }[] = [];
const plans: { wallMs: number; cpuMs: number; assessMs: number }[] = [];
let docs: StackDoc[] = [];
for (let round = 0; round < rounds; round++) {
  baselines.push(baseline());
  const p = planAll();
  plans.push(p);
  docs = p.docs;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const bWall = median(baselines.map((x) => x.wallMs));
const bCpu = median(baselines.map((x) => x.cpuMs));
const pWall = median(plans.map((x) => x.wallMs));
const pCpu = median(plans.map((x) => x.cpuMs));
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`base ref ${base}; ${rounds} rounds (medians); load average at the end ${load}`);
console.log(
  `baseline (bare evaluation of ${STACKS.join(', ')}, one process each, in turn): wall ${s(bWall)}, CPU ${s(bCpu)}`,
);
console.log(
  `plan --stack ${STACKS.join(',')} --base ${base} (worktree, both checkouts evaluated side by side, diffed): wall ${s(pWall)} = ${(pWall / bWall).toFixed(2)}x baseline, CPU ${s(pCpu)} = ${(pCpu / bCpu).toFixed(2)}x baseline`,
);
console.log(
  `of which pricing and policy checks of all stacks, both sides: ${median(plans.map((x) => x.assessMs)).toFixed(0)} ms`,
);
console.log(`target, plan under 15 s wall: ${pWall < 15_000 ? 'met' : 'not met on this run'}`);
for (const d of docs) {
  const ops = Object.entries(d.summary).map(([op, n]) => `${op} ${n}`);
  console.log(
    `    ${d.stack}: ${d.resources} resources; ${ops.join(', ')}${d.dataLoss ? '; data-loss' : ''}; ${d.cost ? `$${d.cost.monthlyUsd.toFixed(2)}/month` : 'no AWS cost'}; policy ${d.policy.mandatory} mandatory, ${d.policy.advisory} advisory`,
  );
}
console.log(
  `all rounds (wall): baseline ${baselines.map((x) => s(x.wallMs)).join(' / ')}; plan ${plans.map((x) => s(x.wallMs)).join(' / ')}`,
);
