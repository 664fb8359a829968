/** The audit log: who did what to which subject, and when. */
import type pg from 'pg';

export type AuditAction =
  | 'key.created'
  | 'key.revoked'
  | 'key.rotated'
  | 'key.expired'
  | 'video.created'
  | 'video.cancelled'
  | 'video.completed'
  | 'video.failed';

export interface AuditEntry {
  id: string;
  at: Date;
  actor: string;
  action: AuditAction;
  subject: string | null;
  detail: Record<string, unknown>;
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export async function recordAudit(
  db: Queryable,
  entry: { actor: string; action: AuditAction; subject?: string; detail?: Record<string, unknown> },
): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, subject, detail) VALUES ($1, $2, $3, $4)', [
    entry.actor,
    entry.action,
    entry.subject ?? null,
    JSON.stringify(entry.detail ?? {}),
  ]);
}

export async function auditEntries(db: Queryable, filter: { subject?: string; action?: AuditAction } = {}) {
  const rows = await db.query<AuditEntry>(
    `SELECT id::text, at, actor, action, subject, detail FROM audit_log
      WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR action = $2)
      ORDER BY audit_log.id`,
    [filter.subject ?? null, filter.action ?? null],
  );
  return rows.rows;
}
