/**
 * One way to run a transaction on a pooled client. A failure rolls back; a client whose ROLLBACK
 * fails too is broken (its connection died mid-transaction) and is destroyed instead of being
 * handed to the next caller. The caller always sees the original error, never the ROLLBACK's.
 */
import type pg from 'pg';

export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client whose connection dies emits 'error'; unheard, that would crash the
  // process. A query in flight rejects with that error; one sent after it rejects only with pg's
  // "not queryable", so the connection's own error is the one the caller is told.
  let connectionError: Error | undefined;
  const onError = (error: Error): void => {
    connectionError ??= error;
    broken ??= error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = (await rollback(client)) ?? broken;
    throw connectionError && notQueryable(error) ? connectionError : error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** pg's refusal of a query on a client whose connection already failed (it carries no code). */
function notQueryable(error: unknown): boolean {
  return error instanceof Error && /not queryable/.test(error.message);
}

/** Rolls back; returns the rollback's own error when the client is unusable, else undefined. */
export async function rollback(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
