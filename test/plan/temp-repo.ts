/**
 * A temporary git repository holding this checkout's files as they are (tracked and new, not
 * ignored), committed as `base`, with node_modules linked in: the plan tests make real commits in it
 * and run the real `npm run plan` command there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, SHARED } from '../../stacks/plan/evaluate.js';

/** `npm run plan` is `node --import tsx stacks/plan/cli.ts` (package.json; a test checks it). */
export const PLAN_SCRIPT = ['--import', 'tsx', 'stacks/plan/cli.ts'];

export interface TempRepo {
  readonly dir: string;
  git(...args: string[]): string;
  /** Replaces `from` with `to` in a file (which must contain it) and commits on the current branch. */
  commitEdit(file: string, from: string | RegExp, to: string, message: string): string;
  /** Runs the plan command (`npm run plan`'s script, without npm's start-up) in the repository. */
  plan(...args: string[]): { status: number; stdout: string; stderr: string };
  remove(): void;
}

export function makeTempRepo(): TempRepo {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'archibald-plan-test-')));
  const files = execFileSync(
    'git',
    ['-C', REPO_ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && !f.startsWith('node_modules/'));
  for (const f of files) {
    const from = join(REPO_ROOT, f);
    if (!existsSync(from) || lstatSync(from).isSymbolicLink()) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(from, join(dir, f));
  }
  symlinkSync(realpathSync(join(REPO_ROOT, 'node_modules')), join(dir, 'node_modules'), 'dir');
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  git('init', '--quiet', '--initial-branch=main');
  git('config', 'user.email', 'plan-test@example.com');
  git('config', 'user.name', 'plan test');
  writeFileSync(join(dir, '.git', 'info', 'exclude'), 'node_modules\n');
  git('add', '--all');
  git('commit', '--quiet', '-m', 'base');
  git('tag', 'base');
  return {
    dir,
    git,
    commitEdit(file, from, to, message) {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const edited = text.replace(from, to);
      if (edited === text) throw new Error(`${file} does not contain ${String(from)}`);
      writeFileSync(path, edited);
      git('commit', '--quiet', '-am', message);
      return git('rev-parse', 'HEAD');
    },
    plan(...args) {
      const r = spawnSync(process.execPath, [...PLAN_SCRIPT, ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          // The stacks' chart and CRD checks look beside the repository; this one is in a temp dir.
          ARCHIBALD_CHARTS_DIR: process.env.ARCHIBALD_CHARTS_DIR ?? `${SHARED}charts`,
          ARCHIBALD_CRDS_DIR: process.env.ARCHIBALD_CRDS_DIR ?? `${SHARED}crds`,
        },
        maxBuffer: 64 * 1024 * 1024,
      });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
