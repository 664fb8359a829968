import type { Command } from 'commander';
import {
  API_KEY_SCOPES,
  RotationRefused,
  createApiKey,
  listApiKeys,
  parseScopes,
  revokeApiKey,
  rotateApiKey,
} from '../../db/api-keys.js';
import type { ApiKeyRecord } from '../../db/api-keys.js';
import type { Config } from '../../config/load.js';
import { createDatabase } from '../../db/pool.js';
import type { Database } from '../../db/pool.js';
import { closeRedis, createRedis } from '../../queue/connection.js';
import { announceKeyChange } from '../../security/key-cache.js';
import { CliError, configOrExit } from '../run.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>): Promise<T> {
  const db = createDatabase(config.database);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

/**
 * After a revocation or rotation has committed: tells every API replica to stop using its cached
 * copy of the key at once. Without Redis the change still applies, within the cache's few seconds.
 */
async function announce(config: Config, keyId: string): Promise<void> {
  const redis = createRedis(config.redis, { name: 'cli', maxRetriesPerRequest: 1 });
  try {
    await announceKeyChange(redis, config.queue.prefix, keyId);
  } catch (error) {
    console.error(
      `warning: could not tell the API replicas (${(error as Error).message}); ` +
        'the change applies once their cached copy of the key expires, within seconds',
    );
  } finally {
    await closeRedis(redis);
  }
}

/** A whole number option in [min, max], or the config's value when absent. */
function wholeNumber(value: string | undefined, fallback: number, flag: string, min: number, max: number) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new CliError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

function printKey(record: ApiKeyRecord, key: string, json: boolean | undefined, extra = {}): void {
  const shown = {
    id: record.id,
    name: record.name,
    key,
    scopes: record.scopes,
    expiresAt: record.expiresAt.toISOString(),
    ...extra,
  };
  if (json) console.log(JSON.stringify(shown));
  else {
    console.log(
      `id:      ${record.id}\nname:    ${record.name}\nscopes:  ${record.scopes.join(',')}\n` +
        `expires: ${record.expiresAt.toISOString()}\nkey:     ${key}`,
    );
    console.error('Store the key now: it is not shown again (only its hash is kept).');
  }
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('manage API keys (stored hashed; a key is shown once)');

  keys
    .command('create')
    .description('create a key and print it once')
    .requiredOption('--name <name>', 'who or what the key is for (1-100 characters)')
    .option('--ttl-days <days>', 'lifetime in days (default: API_KEY_TTL_DAYS)')
    .option('--scope <scopes>', `comma-separated scopes among ${API_KEY_SCOPES.join(', ')}`, 'videos')
    .option('--json', 'print JSON')
    .action(async (options: { name: string; ttlDays?: string; scope: string; json?: boolean }) => {
      const name = options.name.trim();
      if (name.length < 1 || name.length > 100) throw new CliError('--name must be 1 to 100 characters');
      let scopes;
      try {
        scopes = parseScopes(options.scope);
      } catch (error) {
        throw new CliError(`--scope: ${(error as Error).message}`);
      }
      const config = configOrExit();
      const ttlDays = wholeNumber(options.ttlDays, config.apiKeys.ttlDays, '--ttl-days', 1, 3650);
      const { record, key } = await withDatabase(config, (db) =>
        createApiKey(db.primary, name, 'cli', { ttlDays, scopes }),
      );
      printKey(record, key, options.json);
    });

  keys
    .command('list')
    .description('list keys with their state, expiry and scopes (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const records = await withDatabase(configOrExit(), (db) => listApiKeys(db.primary));
      if (options.json) {
        console.log(JSON.stringify(records));
        return;
      }
      const now = Date.now();
      for (const r of records) {
        let state = 'active';
        if (r.revokedAt) state = `revoked ${r.revokedAt.toISOString()}`;
        else if (r.expiresAt.getTime() <= now) state = 'expired';
        else if (r.successorId) state = `rotated to ${r.successorId}`;
        console.log(
          `${r.id}  ${r.keyPrefix}…  ${r.createdAt.toISOString()}  ${state}  ` +
            `expires ${r.expiresAt.toISOString()}  scopes ${r.scopes.join(',')}  ${r.name}`,
        );
      }
      if (records.length === 0) console.log('no keys; create one with: archibald keys create --name <name>');
    });

  keys
    .command('rotate')
    .description(
      'issue a successor key (same name and scopes) and print it once; the old key keeps working ' +
        'for the overlap, then expires',
    )
    .argument('<id>', 'the key id (from keys list)')
    .option(
      '--overlap-hours <hours>',
      'how long the old key keeps working (default: API_KEY_ROTATION_OVERLAP_HOURS)',
    )
    .option('--ttl-days <days>', "the successor's lifetime in days (default: API_KEY_TTL_DAYS)")
    .option('--json', 'print JSON')
    .action(async (id: string, options: { overlapHours?: string; ttlDays?: string; json?: boolean }) => {
      if (!UUID.test(id)) throw new CliError(`"${id}" is not a key id (a UUID; see archibald keys list)`);
      const config = configOrExit();
      const overlapHours = wholeNumber(
        options.overlapHours,
        config.apiKeys.rotationOverlapHours,
        '--overlap-hours',
        0,
        8760,
      );
      const ttlDays = wholeNumber(options.ttlDays, config.apiKeys.ttlDays, '--ttl-days', 1, 3650);
      const rotated = await withDatabase(config, async (db) => {
        try {
          return await rotateApiKey(db.primary, id, { overlapHours, ttlDays });
        } catch (error) {
          if (error instanceof RotationRefused) throw new CliError(error.message);
          throw error;
        }
      });
      await announce(config, id);
      const oldKeyExpiresAt = rotated.old.expiresAt.toISOString();
      printKey(rotated.record, rotated.key, options.json, { rotatedFrom: id, oldKeyExpiresAt });
      if (!options.json) console.log(`old key ${id} keeps working until ${oldKeyExpiresAt}`);
    });

  keys
    .command('revoke')
    .description('revoke a key by id; requests with it get 401 from then on')
    .argument('<id>', 'the key id (from keys list)')
    .action(async (id: string) => {
      if (!UUID.test(id)) throw new CliError(`"${id}" is not a key id (a UUID; see archibald keys list)`);
      const config = configOrExit();
      const revoked = await withDatabase(config, (db) => revokeApiKey(db.primary, id));
      if (!revoked) throw new CliError(`no active key with id ${id}`);
      await announce(config, id);
      console.log(`revoked ${id}`);
    });
}
