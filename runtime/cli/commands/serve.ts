import type { Command } from 'commander';
import { startApiServer } from '../../api/server.js';
import { configOrExit, untilSignal } from '../run.js';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run the HTTP API (PORT; /metrics on API_METRICS_PORT); applies pending migrations first when MIGRATE_ON_START',
    )
    .action(async () => {
      const server = await startApiServer(configOrExit());
      await untilSignal();
      await server.close();
    });
}
