import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment({ BODY_LIMIT_BYTES: '2048' });
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);
const call = apiClient(api.url, key);
const uuid = '00000000-0000-4000-8000-000000000000';

const badBodies: Array<[string, unknown, string, string]> = [
  ['missing topic', {}, 'body.topic', 'required'],
  ['empty topic', { topic: '' }, 'body.topic', 'minLength'],
  ['blank topic', { topic: '   ' }, 'body.topic', 'pattern'],
  ['topic too long', { topic: 'x'.repeat(201) }, 'body.topic', 'maxLength'],
  ['topic not a string', { topic: 42 }, 'body.topic', 'type'],
  ['topic with a NUL character', { topic: 'calm\u0000sea' }, 'body.topic', 'pattern'],
  ['topic with a newline', { topic: 'calm\nsea' }, 'body.topic', 'pattern'],
  ['duration too short', { topic: 't', durationSeconds: 14 }, 'body.durationSeconds', 'minimum'],
  ['duration too long', { topic: 't', durationSeconds: 601 }, 'body.durationSeconds', 'maximum'],
  ['duration not an integer', { topic: 't', durationSeconds: 60.5 }, 'body.durationSeconds', 'type'],
  ['duration as a string', { topic: 't', durationSeconds: '60' }, 'body.durationSeconds', 'type'],
  ['unknown aspect', { topic: 't', aspect: '4:3' }, 'body.aspect', 'enum'],
  ['unknown resolution', { topic: 't', resolution: '4k' }, 'body.resolution', 'enum'],
  ['unknown voice', { topic: 't', voice: 'hal9000' }, 'body.voice', 'enum'],
  ['unknown style', { topic: 't', style: 'angry' }, 'body.style', 'enum'],
  ['burnCaptions not boolean', { topic: 't', burnCaptions: 'yes' }, 'body.burnCaptions', 'type'],
  ['empty idempotency key', { topic: 't', idempotencyKey: '' }, 'body.idempotencyKey', 'minLength'],
  ['idempotency key with spaces', { topic: 't', idempotencyKey: 'a b' }, 'body.idempotencyKey', 'pattern'],
  ['unknown field', { topic: 't', colour: 'blue' }, 'body.colour', 'additionalProperties'],
  ['array body', [1, 2], 'body', 'type'],
  ['null body', null, 'body', 'type'],
];

for (const [name, body, field, rule] of badBodies) {
  test(`POST /v1/videos rejects ${name}: 400 naming ${field} (${rule})`, async () => {
    const r = await call('POST', '/v1/videos', {
      rawBody: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.ok(
      r.body.details.some((d: { field: string; rule: string }) => d.field === field && d.rule === rule),
      JSON.stringify(r.body.details),
    );
    assert.match(r.body.message, new RegExp(field.replace('.', '\\.')));
    assert.equal(r.body.requestId, r.headers.get('x-request-id'));
  });
}

const badRequests: Array<[string, string, string, string]> = [
  ['GET', '/v1/videos/not-a-uuid', 'params.id', 'format'],
  ['DELETE', '/v1/videos/123', 'params.id', 'format'],
  ['GET', '/v1/videos/zzz/events', 'params.id', 'format'],
  ['GET', '/v1/videos/zzz/file', 'params.id', 'format'],
  ['GET', '/v1/videos?status=done', 'querystring.status', 'enum'],
  ['GET', '/v1/videos?limit=0', 'querystring.limit', 'minimum'],
  ['GET', '/v1/videos?limit=101', 'querystring.limit', 'maximum'],
  ['GET', '/v1/videos?limit=ten', 'querystring.limit', 'type'],
  ['GET', '/v1/videos?cursor=abc', 'querystring.cursor', 'format'],
  ['GET', '/v1/videos?sort=name', 'querystring.sort', 'additionalProperties'],
];

for (const [method, path, field, rule] of badRequests) {
  test(`${method} ${path} is a 400 naming ${field} (${rule})`, async () => {
    const r = await call(method, path);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.details.map((d: { field: string; rule: string }) => [d.field, d.rule]),
      [[field, rule]],
    );
  });
}

test('text Postgres cannot store (a lone surrogate) is a 400, while emoji are fine', async () => {
  const lone = await call('POST', '/v1/videos', {
    rawBody: '{"topic": "calm \\ud800 sea"}',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(lone.status, 400, JSON.stringify(lone.body));
  assert.match(lone.body.message, /cannot be stored/);
  const emoji = await call('POST', '/v1/videos', { body: { topic: 'calm 🌊 sea' } });
  assert.equal(emoji.status, 202, JSON.stringify(emoji.body));
  assert.equal(emoji.body.request.topic, 'calm 🌊 sea');
});

test('a body over BODY_LIMIT_BYTES is a 413 JSON error', async () => {
  const r = await call('POST', '/v1/videos', { body: { topic: 't', padding: 'x'.repeat(4096) } });
  assert.equal(r.status, 413);
  assert.match(r.body.message, /larger than 2048 bytes/);
});

test('a body that is not JSON is a 415, malformed JSON a 400', async () => {
  const text = await call('POST', '/v1/videos', {
    rawBody: 'topic=t',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(text.status, 415);
  assert.match(text.body.message, /application\/json/);
  const form = await call('POST', '/v1/videos', {
    rawBody: 'topic=t',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(form.status, 415);
  const broken = await call('POST', '/v1/videos', {
    rawBody: '{"topic": ',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(broken.status, 400);
  assert.equal(broken.body.message, 'body is not valid JSON');
});

test('unknown routes and videos are 404 JSON; a known route with another method is 404 too', async () => {
  for (const [method, path] of [
    ['GET', '/nothing-here'],
    ['GET', `/v1/videos/${uuid}`],
    ['GET', `/v1/videos/${uuid}/events`],
    ['DELETE', `/v1/videos/${uuid}`],
    ['PUT', '/v1/videos'],
  ] as const) {
    const r = await call(method, path);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(r.body.statusCode, 404);
    assert.equal(typeof r.body.message, 'string');
  }
});

test('responses carry a request id (the caller’s when safe) and security headers; CORS is off', async () => {
  const mine = await call('GET', '/health', {
    headers: { 'x-request-id': 'trace-123', origin: 'https://evil.example' },
  });
  assert.equal(mine.headers.get('x-request-id'), 'trace-123');
  assert.equal(mine.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(mine.headers.get('content-security-policy'));
  assert.equal(mine.headers.get('access-control-allow-origin'), null);
  const unsafe = await call('GET', '/health', { headers: { 'x-request-id': 'bad id\twith tab' } });
  assert.match(unsafe.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  // Refusals and unknown routes carry the same headers as a success.
  const anonymous = apiClient(api.url);
  for (const refused of [await anonymous('GET', '/v1/videos'), await call('GET', '/no/such/route')]) {
    assert.ok(refused.status === 401 || refused.status === 404, String(refused.status));
    assert.equal(refused.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(refused.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
    assert.match(refused.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(refused.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  }
});

test('the OpenAPI document at /docs/json is generated from the validation schemas', async () => {
  const doc = (await call('GET', '/docs/json')).body;
  assert.equal(doc.openapi, '3.1.0');
  const post = doc.paths['/v1/videos'].post;
  const schema = post.requestBody.content['application/json'].schema;
  assert.equal(schema.properties.topic.maxLength, 200);
  assert.deepEqual(schema.properties.aspect.enum, ['16:9', '9:16', '1:1']);
  for (const path of [
    '/v1/videos/{id}',
    '/v1/videos/{id}/events',
    '/v1/videos/{id}/file',
    '/health',
    '/ready',
  ])
    assert.ok(doc.paths[path], `${path} missing from the OpenAPI document`);
  assert.equal((await call('GET', '/docs')).status, 200);
});

test('CORS_ORIGINS turns CORS on for exactly the listed origins, preflight included', async () => {
  const withCors = await startTestApi(environment, {
    CORS_ORIGINS: 'https://app.example, https://ops.example',
  });
  const preflight = await fetch(`${withCors.url}/v1/videos`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
  const allowed = await apiClient(withCors.url, key)('GET', '/v1/videos', {
    headers: { origin: 'https://ops.example' },
  });
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://ops.example');
  const denied = await apiClient(withCors.url, key)('GET', '/v1/videos', {
    headers: { origin: 'https://evil.example' },
  });
  assert.equal(denied.headers.get('access-control-allow-origin'), null);
});
