/**
 * `archibald`: the runtime's command line. bin/archibald.ts calls it: compiled to
 * dist/bin/archibald.js in the image, run through tsx by bin/archibald.js in development.
 */
import { Command, CommanderError } from 'commander';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { renderCommand } from './commands/render.js';
import { serveCommand } from './commands/serve.js';
import { workerCommand } from './commands/worker.js';
import { CliError } from './run.js';

export function buildCli(): Command {
  const program = new Command('archibald')
    .description('Archibald: guided-meditation videos (API, worker, database and key management)')
    .showHelpAfterError()
    .exitOverride();
  serveCommand(program);
  workerCommand(program);
  migrateCommand(program);
  keysCommand(program);
  renderCommand(program);
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      console.error(`archibald: ${error.message}`);
      return error.exitCode;
    }
    console.error(`archibald: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
