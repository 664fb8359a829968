import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const pool = testPool(environment);

/** Words Postgres' messages carry (SQLSTATE texts, our table and constraint names). */
const POSTGRES_WORDS =
  /postgres|relation|constraint|violates|unicode|escape|sequence|videos|jsonb|sqlstate|syntax|column|\\u/i;

function assertGeneric(
  response: { status: number; headers: Headers; body: Record<string, unknown> },
  status: number,
) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.deepEqual(Object.keys(response.body).sort(), ['error', 'message', 'requestId', 'statusCode']);
  assert.equal(response.body.requestId, response.headers.get('x-request-id'));
  assert.doesNotMatch(String(response.body.message), POSTGRES_WORDS);
}

test('a value Postgres refuses (a lone surrogate, SQLSTATE 22P05) is a 400 without Postgres’ text', async () => {
  const r = await call('POST', '/v1/videos', {
    rawBody: '{"topic": "calm \\ud800 sea"}',
    headers: { 'content-type': 'application/json', 'x-request-id': 'surrogate-1' },
  });
  assertGeneric(r, 400);
  assert.equal(r.body.requestId, 'surrogate-1');
  assert.match(r.body.message, /cannot be stored/);
});

test('a constraint violation behind POST /v1/videos is a 500 with only a generic message and the request id', async () => {
  // A real Postgres error inside the route's transaction: a CHECK the insert violates.
  await pool.query(
    `ALTER TABLE videos ADD CONSTRAINT no_storms_secret_rule CHECK (spec->>'topic' <> 'storm')`,
  );
  try {
    const r = await call('POST', '/v1/videos', { body: { topic: 'storm' } });
    assertGeneric(r, 500);
    assert.doesNotMatch(JSON.stringify(r.body), /no_storms_secret_rule|storm/);
    assert.match(r.body.message, /internal error; the request id identifies it in the logs/);
  } finally {
    await pool.query('ALTER TABLE videos DROP CONSTRAINT no_storms_secret_rule');
  }
});

test('a missing relation behind GET /v1/videos is a 500 with only a generic message and the request id', async () => {
  await pool.query('ALTER TABLE video_stages RENAME TO video_stages_moved');
  try {
    const r = await call('GET', '/v1/videos');
    assertGeneric(r, 500);
    assert.doesNotMatch(JSON.stringify(r.body), /video_stages/);
  } finally {
    await pool.query('ALTER TABLE video_stages_moved RENAME TO video_stages');
  }
  assert.equal((await call('GET', '/v1/videos')).status, 200);
});

test('/ready, which the load balancer exposes, says which check fails without Postgres’ text', async () => {
  // A replica URL naming a database that does not exist: Postgres answers 3D000 with the name.
  const replica = new URL(environment.database.url);
  replica.pathname = '/no_such_database_here';
  const misconfigured = await startTestApi(environment, { DATABASE_READ_URL: replica.toString() });
  const r = await apiClient(misconfigured.url)('GET', '/ready');
  assert.equal(r.status, 503);
  assert.deepEqual(r.body.checks.postgresReplica, {
    ok: false,
    error: 'postgres replica: failing (the reason is in the log)',
  });
  assert.doesNotMatch(JSON.stringify(r.body), /no_such_database_here|does not exist|127\.0\.0\.1|5432/);
  assert.deepEqual(r.body.checks.postgres, { ok: true });
});
