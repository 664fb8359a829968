import type { Command } from 'commander';
import { createLogger } from '../../config/logger.js';
import { migrate } from '../../db/migrate.js';
import { createDatabase } from '../../db/pool.js';
import { configOrExit } from '../run.js';

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (forward-only; safe to run from several processes)')
    .action(async () => {
      const config = configOrExit();
      const db = createDatabase(config.database, createLogger(config, 'migrate'));
      try {
        const applied = await migrate(db.primary);
        console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database is up to date');
      } finally {
        await db.close();
      }
    });
}
