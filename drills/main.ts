/**
 * `npm run drill -- <scenario|all> [--json] [--record] [--base-port <port>]`: disaster-recovery
 * drills with real Postgres and Redis binaries on private data directories and loopback ports.
 * Each causes its disaster, recovers by its runbook's steps (runbooks/dr/<scenario>.md), verifies
 * and prints a result row; --json prints the results as JSON; --record writes them to
 * runbooks/dr/results.json and regenerates the DR table in runbooks/README.md.
 * Exit code 0 when every drill verified, 1 when one failed, 2 on bad input.
 *
 * Environment: DRILL_PG_BIN (PostgreSQL binaries), DRILL_DIR_PARENT (where the private directory
 * goes; the system temp directory by default), DRILL_ASSET_CACHE_DIR (the runtime's asset cache,
 * var/cache by default), DRILL_RUN_ID (marks every process a drill starts; random by default) and,
 * for tests, DRILL_FAIL_AT=<step name> to fail that step on purpose.
 */
import { DrillError, DrillInputError, DrillRun } from './support/run.js';
import type { DrillResult } from './support/run.js';
import { SCENARIOS } from './scenarios/index.js';
import { formatRows, recordResults } from './results.js';

const USAGE = `usage: npm run drill -- <${Object.keys(SCENARIOS).join('|')}|all> [--json] [--record] [--base-port <port>]`;

interface Args {
  scenarios: string[];
  json: boolean;
  record: boolean;
  basePort?: number;
}

function parse(argv: string[]): Args {
  const args: Args = { scenarios: [], json: false, record: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') args.json = true;
    else if (a === '--record') args.record = true;
    else if (a === '--base-port') {
      const value = argv[++i];
      const port = Number(value);
      if (!value || !Number.isInteger(port) || port < 1024 || port > 65000)
        throw new DrillInputError(
          `--base-port must be a port from 1024 to 65000, got ${JSON.stringify(value)}`,
        );
      args.basePort = port;
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('-')) throw new DrillInputError(`unknown option ${a}; ${USAGE}`);
    else if (a === 'all') args.scenarios.push(...Object.keys(SCENARIOS));
    else if (a in SCENARIOS) args.scenarios.push(a);
    else
      throw new DrillInputError(`unknown scenario "${a}" (known: ${Object.keys(SCENARIOS).join(', ')}, all)`);
  }
  if (args.scenarios.length === 0) throw new DrillInputError(`no scenario given; ${USAGE}`);
  args.scenarios = [...new Set(args.scenarios)];
  return args;
}

export async function runDrill(scenario: string, basePort?: number): Promise<DrillResult> {
  const run = new DrillRun(scenario, basePort === undefined ? {} : { basePort });
  const ranAt = new Date();
  let interrupted: (() => void) | undefined;
  const onSignal = () => interrupted?.();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const body = SCENARIOS[scenario]!(run);
    const stop = new Promise<never>((_, reject) => {
      interrupted = () =>
        reject(new DrillError(scenario, run.current, new Error('interrupted by a signal; cleaning up')));
    });
    const result = await Promise.race([body, stop]);
    return { ...result, ranAt: ranAt.toISOString(), durationSeconds: run.seconds(run.startedAt) };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const problems = await run.cleanup();
    for (const p of problems) process.stderr.write(`[${scenario}] clean-up: ${p}\n`);
  }
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`drill: ${(error as Error).message}`);
    return 2;
  }
  const results: DrillResult[] = [];
  let failed = 0;
  for (const scenario of args.scenarios) {
    try {
      results.push(await runDrill(scenario, args.basePort));
    } catch (error) {
      if (error instanceof DrillInputError) {
        console.error(`drill ${scenario}: ${error.message}`);
        return 2;
      }
      failed++;
      console.error(
        error instanceof DrillError ? error.message : `drill ${scenario} failed: ${String(error)}`,
      );
    }
  }
  if (args.json) console.log(JSON.stringify(results, null, 2));
  else if (results.length > 0) console.log(formatRows(results));
  if (args.record && results.length > 0) {
    const written = await recordResults(results);
    console.error(`recorded ${results.length} result(s) in ${written.join(' and ')}`);
  }
  return failed > 0 ? 1 : 0;
}

// Exit now: an interrupted drill's steps may still be polling what clean-up removed. (stdout and
// stderr are synchronous for files and pipes on Linux, so nothing printed is lost.)
process.exit(await main());
