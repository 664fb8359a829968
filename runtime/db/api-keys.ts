/**
 * API keys: stored as a sha256 hash with a short visible prefix; the key itself is shown once.
 * Every key expires (API_KEY_TTL_DAYS by default) and carries scopes ("videos" for /v1, "ops" for
 * operational endpoints). Rotating a key issues a successor with the same name and scopes and
 * cuts the old key's life down to an overlap window, so clients can switch without an outage.
 * Expiry is compared with the database's clock, the same one every replica reads.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAudit } from './audit.js';
import { inTransaction } from './transaction.js';

export const API_KEY_SCOPES = ['videos', 'ops'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  keyPrefix: string;
  createdAt: Date;
  revokedAt: Date | null;
  expiresAt: Date;
  scopes: ApiKeyScope[];
  rotatedFrom: string | null;
  successorId: string | null;
}

/** A presented key that exists and is not revoked; `expired` by the database's clock. */
export interface PresentedApiKey extends ApiKeyRecord {
  expired: boolean;
  /** A refusal after expiry was already audited (key.expired). */
  expiryAudited: boolean;
}

const KEY_PREFIX = 'ak_';
export const DEFAULT_TTL_DAYS = 30;
const MAX_TTL_DAYS = 3650;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** 32 random bytes: a hash without a salt is enough for keys this long (no dictionary to try). */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** Parses "videos,ops"; throws naming the unknown scope. */
export function parseScopes(list: string): ApiKeyScope[] {
  const scopes = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (scopes.length === 0) throw new Error(`no scope given; scopes are ${API_KEY_SCOPES.join(', ')}`);
  for (const s of scopes)
    if (!(API_KEY_SCOPES as readonly string[]).includes(s))
      throw new Error(`unknown scope "${s}"; scopes are ${API_KEY_SCOPES.join(', ')}`);
  return scopes as ApiKeyScope[];
}

function checkTtlDays(ttlDays: number): void {
  if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > MAX_TTL_DAYS)
    throw new Error(`the key lifetime must be a whole number of days from 1 to ${MAX_TTL_DAYS}`);
}

const COLUMNS = `id, name, key_prefix AS "keyPrefix", created_at AS "createdAt", revoked_at AS "revokedAt",
  expires_at AS "expiresAt", scopes, rotated_from AS "rotatedFrom", successor_id AS "successorId"`;

async function insertKey(
  client: pg.PoolClient,
  fields: { name: string; scopes: ApiKeyScope[]; ttlDays: number; rotatedFrom?: string },
): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = generateApiKey();
  const rows = await client.query<ApiKeyRecord>(
    `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, expires_at, rotated_from)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6), $7) RETURNING ${COLUMNS}`,
    [
      randomUUID(),
      fields.name,
      hashApiKey(key),
      key.slice(0, KEY_PREFIX.length + 6),
      fields.scopes,
      fields.ttlDays,
      fields.rotatedFrom ?? null,
    ],
  );
  return { record: rows.rows[0]!, key };
}

export async function createApiKey(
  pool: pg.Pool,
  name: string,
  actor = 'cli',
  options: { ttlDays?: number; scopes?: ApiKeyScope[] } = {},
): Promise<{ record: ApiKeyRecord; key: string }> {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 100) throw new Error('key name must be 1 to 100 characters');
  const ttlDays = options.ttlDays ?? DEFAULT_TTL_DAYS;
  checkTtlDays(ttlDays);
  const scopes = options.scopes ?? ['videos'];
  return inTransaction(pool, async (client) => {
    const created = await insertKey(client, { name: trimmed, scopes, ttlDays });
    await recordAudit(client, {
      actor,
      action: 'key.created',
      subject: created.record.id,
      detail: { name: trimmed, scopes, expiresAt: created.record.expiresAt.toISOString() },
    });
    return created;
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

export class RotationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationRefused';
  }
}

/**
 * Issues a successor for a live key (same name and scopes, a fresh `ttlDays` lifetime) and cuts
 * the old key's expiry down to `overlapHours` from now (never extends it). A key already rotated,
 * revoked or expired cannot be rotated: its successor, if any, is the one to rotate.
 */
export async function rotateApiKey(
  pool: pg.Pool,
  id: string,
  options: { overlapHours: number; ttlDays: number },
  actor = 'cli',
): Promise<{ old: ApiKeyRecord; record: ApiKeyRecord; key: string }> {
  checkTtlDays(options.ttlDays);
  if (!Number.isInteger(options.overlapHours) || options.overlapHours < 0 || options.overlapHours > 8760)
    throw new Error('the overlap must be a whole number of hours from 0 to 8760');
  return inTransaction(pool, async (client) => {
    const found = await client.query<ApiKeyRecord & { expired: boolean }>(
      `SELECT ${COLUMNS}, expires_at <= now() AS expired FROM api_keys WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const current = found.rows[0];
    if (!current) throw new RotationRefused(`no key with id ${id}`);
    if (current.revokedAt) throw new RotationRefused(`key ${id} is revoked`);
    if (current.successorId)
      throw new RotationRefused(`key ${id} was already rotated; its successor is ${current.successorId}`);
    if (current.expired) throw new RotationRefused(`key ${id} expired at ${current.expiresAt.toISOString()}`);
    const successor = await insertKey(client, {
      name: current.name,
      scopes: current.scopes,
      ttlDays: options.ttlDays,
      rotatedFrom: id,
    });
    const updated = await client.query<ApiKeyRecord>(
      `UPDATE api_keys SET successor_id = $2,
              expires_at = least(expires_at, now() + make_interval(hours => $3))
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, successor.record.id, options.overlapHours],
    );
    const old = updated.rows[0]!;
    await recordAudit(client, {
      actor,
      action: 'key.rotated',
      subject: id,
      detail: {
        successor: successor.record.id,
        oldKeyExpiresAt: old.expiresAt.toISOString(),
        successorExpiresAt: successor.record.expiresAt.toISOString(),
      },
    });
    return { old, ...successor };
  });
}

/** The unrevoked key matching a presented secret (expired or not), or undefined. */
export async function findApiKey(pool: pg.Pool, key: string): Promise<PresentedApiKey | undefined> {
  return findApiKeyByHash(pool, hashApiKey(key));
}

/** findApiKey by the key's sha256 (hashApiKey); a named prepared statement. */
export async function findApiKeyByHash(pool: pg.Pool, hash: string): Promise<PresentedApiKey | undefined> {
  const rows = await pool.query<PresentedApiKey>({
    name: 'archibald-find-api-key',
    text: `SELECT ${COLUMNS}, expires_at <= now() AS expired, expiry_refused_at IS NOT NULL AS "expiryAudited"
       FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    values: [hash],
  });
  return rows.rows[0];
}

/**
 * Records the first refused use of an expired key as `key.expired`; later refusals of the same
 * key are not audited again (the conditional update lets exactly one request, across replicas,
 * write the row).
 */
export async function auditFirstExpiredUse(
  pool: pg.Pool,
  record: ApiKeyRecord,
  detail: Record<string, unknown>,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    const first = await client.query(
      'UPDATE api_keys SET expiry_refused_at = now() WHERE id = $1 AND expiry_refused_at IS NULL',
      [record.id],
    );
    if (first.rowCount === 1)
      await recordAudit(client, {
        actor: `key:${record.id}`,
        action: 'key.expired',
        subject: record.id,
        detail: { expiresAt: record.expiresAt.toISOString(), ...detail },
      });
  });
}
