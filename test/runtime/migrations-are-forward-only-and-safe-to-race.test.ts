import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { loadMigrations, migrate, pendingMigrations } from '../../runtime/db/migrate.js';
import { createTestDatabase } from '../support/database.js';

const database = await createTestDatabase();
const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: database.url, max: 2 }));
after(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await database.drop();
});

test('three processes migrating at once apply each migration exactly once', async () => {
  const results = await Promise.all(pools.map((pool) => migrate(pool)));
  const applied = results.flat();
  assert.deepEqual(
    applied,
    loadMigrations().map((m) => `${m.version}_${m.name}`),
  );
  const rows = await pools[0]!.query('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(
    rows.rows.map((r) => r.version),
    loadMigrations().map((m) => m.version),
  );
  assert.deepEqual(await pendingMigrations(pools[0]!), []);
  assert.deepEqual(await migrate(pools[1]!), []);
});

test('a database ahead of this build is refused, and a failing migration rolls back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'archibald-migrations-'));
  after(() => rm(dir, { recursive: true, force: true }));
  // This build's migrations (already applied above), then a broken one after the last.
  const real = loadMigrations();
  for (const m of real)
    await writeFile(join(dir, `${String(m.version).padStart(3, '0')}_${m.name}.sql`), 'SELECT 1;');
  const next = real[real.length - 1]!.version + 1;
  await writeFile(
    join(dir, `${next}_broken.sql`),
    'CREATE TABLE half_done (id int); SELECT no_such_function();',
  );
  const known = loadMigrations(dir);
  await assert.rejects(
    migrate(pools[0]!, undefined, known),
    new RegExp(`migration ${next}_broken failed: .*no_such_function`),
  );
  const table = await pools[0]!.query(`SELECT to_regclass('half_done') AS t`);
  assert.equal(table.rows[0].t, null, 'the failed migration left a table behind');

  await pools[0]!.query(`INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`);
  await assert.rejects(migrate(pools[0]!), /has migrations this build does not know \(999\).*forward-only/);
  await assert.rejects(pendingMigrations(pools[0]!), /forward-only/);
});
