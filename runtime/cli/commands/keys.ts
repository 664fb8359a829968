import type { Command } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../../db/api-keys.js';
import { createDatabase } from '../../db/pool.js';
import type { Database } from '../../db/pool.js';
import { CliError, configOrExit } from '../run.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const db = createDatabase(configOrExit().database);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys (stored hashed; a key is shown once)');

  keys
    .command('create')
    .description('create a key and print it once')
    .requiredOption('--name <name>', 'who or what the key is for (1-100 characters)')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; json?: boolean }) => {
      const name = options.name.trim();
      if (name.length < 1 || name.length > 100) throw new CliError('--name must be 1 to 100 characters');
      const { record, key } = await withDatabase((db) => createApiKey(db.primary, name));
      if (options.json) console.log(JSON.stringify({ id: record.id, name: record.name, key }));
      else {
        console.log(`id:   ${record.id}\nname: ${record.name}\nkey:  ${key}`);
        console.error('Store the key now: it is not shown again (only its hash is kept).');
      }
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const records = await withDatabase((db) => listApiKeys(db.primary));
      if (options.json) {
        console.log(JSON.stringify(records));
        return;
      }
      for (const r of records) {
        const state = r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : 'active';
        console.log(`${r.id}  ${r.keyPrefix}…  ${r.createdAt.toISOString()}  ${state}  ${r.name}`);
      }
      if (records.length === 0) console.log('no keys; create one with: archibald keys create --name <name>');
    });

  keys
    .command('revoke')
    .description('revoke a key by id; requests with it get 401 from then on')
    .argument('<id>', 'the key id (from keys list)')
    .action(async (id: string) => {
      if (!UUID.test(id)) throw new CliError(`"${id}" is not a key id (a UUID; see archibald keys list)`);
      const revoked = await withDatabase((db) => revokeApiKey(db.primary, id));
      if (!revoked) throw new CliError(`no active key with id ${id}`);
      console.log(`revoked ${id}`);
    });
}
