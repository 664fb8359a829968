/**
 * Runs `npm run drill`'s program (drills/main.ts) as a child, as an operator or CI would.
 */
import type { DrillResult } from '../../drills/support/run.js';
import { runNode, type ProcessExit } from '../support/processes.js';

export interface DrillExit extends ProcessExit {
  /** stderr without the progress lines ("[scenario] step …"). */
  messages: string[];
}

export async function runDrillProcess(args: string[], env: Record<string, string> = {}): Promise<DrillExit> {
  const { code, stdout, stderr } = await runNode(['--import', 'tsx', 'drills/main.ts', ...args], env);
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
