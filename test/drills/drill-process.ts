/**
 * Runs `npm run drill`'s program (drills/main.ts) as a child, as an operator or CI would.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DrillResult } from '../../drills/support/run.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DrillExit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr without the progress lines ("[scenario] step …"). */
  messages: string[];
}

export async function runDrillProcess(args: string[], env: Record<string, string> = {}): Promise<DrillExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'drills/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const messages = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('['));
  return { code, stdout, stderr, messages };
}

/** Runs one drill with --json and returns its result (failing with the drill's output otherwise). */
export async function runDrillJson(scenario: string): Promise<DrillResult> {
  const exit = await runDrillProcess([scenario, '--json']);
  if (exit.code !== 0) throw new Error(`drill ${scenario} exited ${exit.code}:\n${exit.stderr}`);
  const [result] = JSON.parse(exit.stdout) as DrillResult[];
  if (!result) throw new Error(`drill ${scenario} printed no result`);
  return result;
}
