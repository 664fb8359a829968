/**
 * The plan: evaluates the requested stacks of this checkout and, with a base ref, of that ref in a
 * temporary git worktree (node_modules linked from this checkout), in two child processes running
 * side by side; then diffs each stack and assesses its risk.
 *
 * Bad input is a PlanInputError with a message meant for the operator: an unknown stack, a ref that
 * does not exist, a program that does not evaluate.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { diffResources, summarize } from './diff.js';
import type { Change, ChangeSummary } from './diff.js';
import { checkoutStackCost, PriceError, unpricedRegion } from './cost.js';
import type { StackCost } from './cost.js';
import { hasDataLoss } from './risk.js';
import { checkPolicies } from '../../policy/rules.js';
import type { PolicyReport } from '../../policy/rules.js';
import { keyInputs } from './snapshot.js';
import type { StackSnapshot } from './snapshot.js';

/** A change with the key inputs of its resource (the head's, or the base's for a delete). */
export type PlannedChange = Change & { readonly keyInputs: Record<string, unknown> };

const run = promisify(execFile);

/** This checkout (as evaluate.ts has it; not imported from there: the parent needs no Pulumi SDK). */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class PlanInputError extends Error {
  override readonly name = 'PlanInputError';
}

export interface PlanOptions {
  readonly stacks: readonly string[];
  readonly base?: string;
  /** The checkout planned (default: this repository). */
  readonly root?: string;
}

export interface Revision {
  readonly ref: string;
  readonly commit: string;
}

export interface StackPlan {
  readonly stack: string;
  readonly base: Revision | null;
  readonly head: { readonly commit: string | null; readonly dirty: boolean };
  /** Resources the head evaluation registers. */
  readonly resources: number;
  readonly summary: ChangeSummary;
  readonly dataLoss: boolean;
  /** Every resource's change (`same` included); renderers choose what to show. */
  readonly changes: readonly PlannedChange[];
  readonly evaluationMs: { readonly head: number; readonly base: number | null };
  /** Monthly cost of the head and of the base (each priced with its own checkout's table). */
  readonly cost: {
    readonly head: StackCost | null;
    readonly base: StackCost | null;
    /** The head's region when the checkout has no price table for it (the cost is then unknown). */
    readonly unpricedRegion: string | null;
  };
  /** The policy pack's verdicts on the head's resources. */
  readonly policy: PolicyReport;
}

export interface Plan {
  readonly stacks: readonly StackPlan[];
  readonly timings: {
    readonly totalMs: number;
    readonly worktreeMs: number;
    readonly evaluateMs: number;
    /** Pricing and policy checks of every stack (both sides). */
    readonly assessMs: number;
  };
}

/** The stacks a checkout declares (one Pulumi.<stack>.yaml each). */
export function declaredStacks(root: string = REPO_ROOT): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

async function git(root: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', root, ...args], { encoding: 'utf8' });
  return stdout.trim();
}

/** The commit a ref names, or a PlanInputError saying it names none. */
export async function resolveRef(root: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw new PlanInputError(`--base ${ref}: not a git ref`);
  try {
    return await git(root, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`);
  } catch {
    throw new PlanInputError(`--base ${ref}: no commit, branch or tag of that name in ${root}`);
  }
}

/** A detached worktree of `commit` in a temporary directory, with this checkout's node_modules. */
export async function addWorktree(
  root: string,
  commit: string,
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'archibald-plan-'));
  await git(root, 'worktree', 'add', '--detach', '--quiet', dir, commit);
  const modules = join(root, 'node_modules');
  if (existsSync(modules)) symlinkSync(realpathSync(modules), join(dir, 'node_modules'), 'dir');
  return {
    dir,
    async remove() {
      await git(root, 'worktree', 'remove', '--force', dir).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      await git(root, 'worktree', 'prune').catch(() => undefined);
    },
  };
}

const CHILD = fileURLToPath(new URL('./evaluate-stacks.ts', import.meta.url));

/** Evaluates `stacks` of the checkout at `root` in a child process. */
async function evaluateCheckout(
  root: string,
  stacks: readonly string[],
  key: string,
  label: string,
): Promise<StackSnapshot[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'archibald-plan-out-')), 'snapshots.json');
  try {
    let stderr = '';
    try {
      await run(process.execPath, ['--import', 'tsx', CHILD, '--root', root, '--out', out, ...stacks], {
        cwd: root,
        env: { ...process.env, PLAN_SECRET_KEY: key },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr ?? '');
    }
    const result = existsSync(out)
      ? (JSON.parse(readFileSync(out, 'utf8')) as {
          stacks?: StackSnapshot[];
          error?: { stack: string; message: string };
        })
      : {};
    if (result.error)
      throw new PlanInputError(
        `the program at ${label} does not evaluate for stack ${result.error.stack}: ${result.error.message.split('\n').slice(0, 6).join('\n')}`,
      );
    if (!result.stacks)
      throw new PlanInputError(
        `the program at ${label} does not evaluate: ${stderr.trim().split('\n').slice(-8).join('\n') || 'the evaluation exited without a result'}`,
      );
    return result.stacks;
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
}

export async function plan(opts: PlanOptions): Promise<Plan> {
  const started = performance.now();
  const root = opts.root ?? REPO_ROOT;
  const known = declaredStacks(root);
  if (opts.stacks.length === 0) throw new PlanInputError(`--stack is required (one of ${known.join(', ')})`);
  for (const s of opts.stacks)
    if (!known.includes(s))
      throw new PlanInputError(
        `unknown stack "${s}": this project has ${known.join(', ')} (Pulumi.<stack>.yaml)`,
      );

  const headCommit = await git(root, 'rev-parse', '--verify', '--quiet', 'HEAD').catch(() => null);
  const dirty = (await git(root, 'status', '--porcelain', '--untracked-files=no').catch(() => '')) !== '';
  const base = opts.base !== undefined ? { ref: opts.base, commit: await resolveRef(root, opts.base) } : null;

  const key = randomBytes(16).toString('hex');
  const worktreeStarted = performance.now();
  const worktree = base ? await addWorktree(root, base.commit) : undefined;
  const worktreeMs = performance.now() - worktreeStarted;
  try {
    const evaluateStarted = performance.now();
    const [headSnapshots, baseSnapshots] = await Promise.all([
      evaluateCheckout(root, opts.stacks, key, 'the working tree'),
      worktree && base
        ? evaluateCheckout(worktree.dir, opts.stacks, key, `--base ${base.ref} (${base.commit.slice(0, 12)})`)
        : Promise.resolve(undefined),
    ]);
    const evaluateMs = performance.now() - evaluateStarted;
    const assessStarted = performance.now();
    const priceOrNull = (dir: string, resources: StackSnapshot['resources']) => {
      try {
        return checkoutStackCost(dir, resources);
      } catch (err) {
        if (err instanceof PriceError) return null;
        throw err;
      }
    };
    const stacks = headSnapshots.map((h): StackPlan => {
      const b = baseSnapshots?.find((s) => s.stack === h.stack);
      const byUrn = new Map([...(b?.resources ?? []), ...h.resources].map((r) => [r.urn, r]));
      const changes = diffResources(b?.resources, h.resources).map((c) => {
        const r = byUrn.get(c.urn);
        return { ...c, keyInputs: r ? keyInputs(r) : {} };
      });
      return {
        stack: h.stack,
        base,
        head: { commit: headCommit, dirty },
        resources: h.resources.length,
        summary: summarize(changes),
        dataLoss: hasDataLoss(changes),
        changes,
        evaluationMs: { head: Math.round(h.evaluationMs), base: b ? Math.round(b.evaluationMs) : null },
        cost: {
          head: priceOrNull(root, h.resources),
          unpricedRegion: unpricedRegion(root, h.resources),
          // A base older than the price table has no cost: the delta is then unknown, not an error.
          base: b && worktree ? priceOrNull(worktree.dir, b.resources) : null,
        },
        policy: checkPolicies(h.stack, h.resources, root),
      };
    });
    const assessMs = performance.now() - assessStarted;
    return { stacks, timings: { totalMs: performance.now() - started, worktreeMs, evaluateMs, assessMs } };
  } finally {
    await worktree?.remove();
  }
}
