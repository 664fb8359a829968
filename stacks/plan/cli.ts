/**
 * npm run plan -- --stack <dev|staging|prod> [--stack ...] [--base <git-ref>] [--json] [--allow-data-loss]
 *
 * Evaluates the program under Pulumi's mocks (the tests' evaluation), prints the planned resources
 * grouped by component, and with --base diffs them against the program at that ref. Markdown for a
 * pull-request comment by default, JSON with --json.
 *
 * Exit status: 0 planned; 1 a stack breaks a mandatory policy (policy/config/<stack>.json), or would
 * lose data (a stateful resource deleted or replaced) and --allow-data-loss was not given; 2 bad input (an unknown stack or option, a ref that does not
 * exist, a program that does not evaluate), with the reason on stderr.
 */
import { parseArgs } from 'node:util';
import { plan, PlanInputError } from './plan.js';
import { renderJson, renderMarkdown } from './render.js';

const USAGE =
  'usage: npm run plan -- --stack <dev|staging|prod> [--stack ...] [--base <git-ref>] [--json] [--allow-data-loss]';

export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        stack: { type: 'string', multiple: true },
        base: { type: 'string' },
        json: { type: 'boolean', default: false },
        'allow-data-loss': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`plan: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const stacks = (args.stack ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  try {
    const result = await plan({ stacks, ...(args.base !== undefined ? { base: args.base } : {}) });
    process.stdout.write(args.json ? renderJson(result) : renderMarkdown(result));
    // For bench/plan: where the time went (ms), on stderr so stdout stays the plan.
    if (process.env.PLAN_TIMINGS === '1') console.error(`plan timings: ${JSON.stringify(result.timings)}`);
    const breaking = result.stacks.filter((s) => s.policy.mandatory > 0);
    if (breaking.length > 0) {
      console.error(
        `plan: mandatory policy violations in ${breaking.map((s) => `${s.stack} (${s.policy.mandatory})`).join(', ')}: see the Policy section (policy/rules.ts, policy/config/<stack>.json).`,
      );
      return 1;
    }
    const losing = result.stacks.filter((s) => s.dataLoss);
    if (losing.length > 0 && !args['allow-data-loss']) {
      console.error(
        `plan: data-loss in ${losing.map((s) => s.stack).join(', ')}: a stateful resource is deleted or replaced. Re-run with --allow-data-loss to accept it.`,
      );
      return 1;
    }
    return 0;
  } catch (err) {
    if (err instanceof PlanInputError) {
      console.error(`plan: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
