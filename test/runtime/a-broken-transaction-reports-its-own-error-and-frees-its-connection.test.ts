/**
 * A transaction whose connection dies: the caller sees the database's own error (not the failed
 * ROLLBACK's), and the dead client is destroyed instead of going back to the pool, so the next
 * caller gets a working connection. On the real Postgres, with the backend really terminated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { inTransaction } from '../../runtime/db/transaction.js';
import { ADMIN_DATABASE_URL } from '../support/database.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
// One connection: a broken client handed back would be the only one the next caller can get.
const pool = new pg.Pool({ connectionString: environment.database.url, max: 1 });
pool.on('error', () => {}); // the terminated idle client reports here; the test checks the caller's view
environment.defer(() => pool.end());
const admin = new pg.Pool({ connectionString: ADMIN_DATABASE_URL, max: 1 });
environment.defer(() => admin.end());

test('a transaction whose backend is terminated fails with that error and leaves a working pool', async () => {
  await assert.rejects(
    inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await client.query('SELECT 1');
    }),
    (error: Error & { code?: string }) => {
      assert.match(
        error.message,
        /terminating connection due to administrator command|Connection terminated|ECONNRESET/,
      );
      assert.doesNotMatch(error.message, /ROLLBACK|not queryable/);
      return true;
    },
  );
  const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
  assert.equal(rows[0]?.ok, 1, 'the next caller gets a live connection');
});

test('a statement sent after the connection died reports the death, not pg\'s "not queryable"', async () => {
  await assert.rejects(
    inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      // The client hears of the death before it sends the next statement.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.query('SELECT 1');
    }),
    (error: Error) => {
      assert.match(
        error.message,
        /terminating connection due to administrator command|Connection terminated|ECONNRESET/,
      );
      assert.doesNotMatch(error.message, /ROLLBACK|not queryable/);
      return true;
    },
  );
  const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
  assert.equal(rows[0]?.ok, 1, 'the next caller gets a live connection');
});

test('a failing statement rolls back and the connection is reused as it is', async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS tx_probe (n integer PRIMARY KEY)');
  await assert.rejects(
    inTransaction(pool, async (client) => {
      await client.query('INSERT INTO tx_probe VALUES (1)');
      await client.query('INSERT INTO tx_probe VALUES (1)');
    }),
    /duplicate key value/,
  );
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM tx_probe');
  assert.equal(rows[0]?.n, '0', 'the first insert was rolled back');
  assert.equal(pool.totalCount, 1);
});
