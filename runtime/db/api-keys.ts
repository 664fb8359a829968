/** API keys: stored as a sha256 hash with a short visible prefix; the key itself is shown once. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAudit } from './audit.js';
import { inTransaction } from './transaction.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  keyPrefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

const KEY_PREFIX = 'ak_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** 32 random bytes: a hash without a salt is enough for keys this long (no dictionary to try). */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

const COLUMNS = 'id, name, key_prefix AS "keyPrefix", created_at AS "createdAt", revoked_at AS "revokedAt"';

export async function createApiKey(
  pool: pg.Pool,
  name: string,
  actor = 'cli',
): Promise<{ record: ApiKeyRecord; key: string }> {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 100) throw new Error('key name must be 1 to 100 characters');
  const key = generateApiKey();
  return inTransaction(pool, async (client) => {
    const rows = await client.query<ApiKeyRecord>(
      `INSERT INTO api_keys (id, name, key_hash, key_prefix) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [randomUUID(), trimmed, hashApiKey(key), key.slice(0, KEY_PREFIX.length + 6)],
    );
    const record = rows.rows[0]!;
    await recordAudit(client, {
      actor,
      action: 'key.created',
      subject: record.id,
      detail: { name: trimmed },
    });
    return { record, key };
  });
}

export async function listApiKeys(pool: pg.Pool): Promise<ApiKeyRecord[]> {
  const rows = await pool.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
  return rows.rows;
}

/** Revokes a key; false when no active key has that id. */
export async function revokeApiKey(pool: pg.Pool, id: string, actor = 'cli'): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const rows = await client.query(
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
      [id],
    );
    if (rows.rowCount === 1) await recordAudit(client, { actor, action: 'key.revoked', subject: id });
    return rows.rowCount === 1;
  });
}

/** The active key matching a presented secret, or undefined. */
export async function findActiveApiKey(pool: pg.Pool, key: string): Promise<ApiKeyRecord | undefined> {
  const rows = await pool.query<ApiKeyRecord>(
    `SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    [hashApiKey(key)],
  );
  return rows.rows[0];
}
