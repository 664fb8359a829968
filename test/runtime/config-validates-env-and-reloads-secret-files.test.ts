import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, closeConfig, loadConfig } from '../../runtime/config/load.js';
import { configSchema, configVariableNames, configVariables } from '../../runtime/config/schema.js';
import { eventually } from '../support/processes.js';

const dir = await mkdtemp(join(tmpdir(), 'archibald-config-'));
after(() => rm(dir, { recursive: true, force: true }));

function issuesOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('expected a ConfigError');
}

test('an empty environment gives the documented local defaults', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.metricsPort, 9464);
  assert.equal(config.apiMetricsPort, 9465);
  assert.equal(config.database.url, 'postgres://postgres@127.0.0.1:5432/archibald');
  assert.deepEqual(config.database.readUrls, []);
  assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
  assert.equal(config.redis.clusterNodes, undefined);
  assert.equal(config.queue.prefix, '{archibald}');
  assert.deepEqual(config.rateLimit, { max: 100, windowSeconds: 60, authFailuresMax: 20 });
  assert.deepEqual(config.trustProxy, []);
  assert.deepEqual(config.corsOrigins, []);
  assert.equal(config.worker.concurrency, 2);
  assert.equal(config.migrateOnStart, true);
  assert.equal(config.s3, undefined);
  // Unset, `archibald render` renders in its own process.
  assert.equal(config.apiUrl, undefined);
  assert.equal(config.apiKey, undefined);
  assert.match(config.version, /^\d+\.\d+\.\d+/);
});

test('every bad value is reported at once, naming the variable, the value and the rule', () => {
  const error = issuesOf({
    PORT: 'eighty',
    WORKER_CONCURRENCY: '0',
    LOG_LEVEL: 'loud',
    REDIS_TLS: 'maybe',
    QUEUE_PREFIX: 'archibald',
    REDIS_CLUSTER_NODES: 'a:1,b',
    PUBLIC_BASE_URL: 'ftp://x',
  });
  const byName = Object.fromEntries(error.issues.map((i) => [i.variable, i]));
  assert.deepEqual(Object.keys(byName).sort(), [
    'LOG_LEVEL',
    'PORT',
    'PUBLIC_BASE_URL',
    'QUEUE_PREFIX',
    'REDIS_CLUSTER_NODES',
    'REDIS_TLS',
    'WORKER_CONCURRENCY',
  ]);
  assert.deepEqual(byName.PORT, { variable: 'PORT', value: 'eighty', rule: 'must be an integer' });
  assert.equal(byName.WORKER_CONCURRENCY?.rule, 'must be >= 1');
  assert.match(byName.LOG_LEVEL?.rule ?? '', /one of fatal, error, warn, info/);
  assert.equal(byName.REDIS_TLS?.rule, 'must be true or false');
  assert.match(error.message, /PORT="eighty": must be an integer/);
});

test("a secret's value never appears in an error", () => {
  const error = issuesOf({
    DATABASE_URL: 'mysql://admin:hunter2@db/x',
    REDIS_PASSWORD: 'swordfish',
    REDIS_PASSWORD_FILE: join(dir, 'nope'),
    ANTHROPIC_API_KEY_FILE: join(dir, 'missing'),
  });
  assert.ok(!error.message.includes('hunter2'), error.message);
  assert.ok(!error.message.includes('swordfish'), error.message);
  assert.match(error.message, /DATABASE_URL="\[secret\]": must match/);
  assert.match(error.message, /REDIS_PASSWORD.*either REDIS_PASSWORD or REDIS_PASSWORD_FILE/);
  assert.match(error.message, /ANTHROPIC_API_KEY_FILE=".*missing": must name a readable, non-empty file/);
});

test('a secret file is read at start and re-read when it changes (Vault Agent style rename)', async () => {
  const path = join(dir, 'db-password');
  await writeFile(path, 'first-password\n');
  const config = loadConfig({ DATABASE_PASSWORD_FILE: path });
  after(() => closeConfig(config));
  const secret = config.database.password!;
  assert.equal(secret.value(), 'first-password');
  assert.equal(String(secret), '[secret]');
  assert.equal(JSON.stringify({ secret }), '{"secret":"[secret]"}');
  const seen: string[] = [];
  secret.onChange((v) => seen.push(v));

  await writeFile(`${path}.tmp`, 'second-password\n');
  await rename(`${path}.tmp`, path);
  await eventually(
    'rotated password',
    async () => (secret.value() === 'second-password' ? true : undefined),
    10_000,
  );
  assert.deepEqual(seen, ['second-password']);
});

test('the schema module lists every variable with a description, marking secrets', () => {
  assert.deepEqual(configVariableNames, Object.keys(configSchema.properties));
  for (const v of configVariables) assert.ok(v.description.length > 10, `${v.name} has no description`);
  const secrets = configVariables.filter((v) => v.secret).map((v) => v.name);
  for (const name of [
    'DATABASE_URL',
    'DATABASE_PASSWORD',
    'REDIS_PASSWORD',
    'ANTHROPIC_API_KEY',
    'ARCHIBALD_API_KEY',
  ])
    assert.ok(secrets.includes(name as never), `${name} not marked secret`);
});

test('defaults passed to the loader stand in for unset variables, and the environment overrides them', () => {
  const config = loadConfig({ PORT: '9000' }, { PORT: '0', LOG_LEVEL: 'warn' });
  assert.equal(config.port, 9000);
  assert.equal(config.logLevel, 'warn');
  assert.throws(() => loadConfig({}, { PORT: 'http' }), /PORT="http": must be an integer/);
});

test('API_URL and ARCHIBALD_API_KEY configure archibald render, the key shown only as [secret]', () => {
  const config = loadConfig({ API_URL: 'https://api.example.com/', ARCHIBALD_API_KEY: 'ak_hidden' });
  assert.equal(config.apiUrl, 'https://api.example.com');
  assert.equal(config.apiKey?.value(), 'ak_hidden');
  assert.ok(!JSON.stringify(config).includes('ak_hidden'));
  const error = issuesOf({
    API_URL: 'ftp://x',
    ARCHIBALD_API_KEY: 'ak_hidden',
    ARCHIBALD_API_KEY_FILE: '/x',
  });
  assert.ok(!error.message.includes('ak_hidden'), error.message);
  assert.match(error.message, /API_URL="ftp:\/\/x": must match/);
  assert.match(error.message, /ARCHIBALD_API_KEY="\[secret\]": set either/);
});
