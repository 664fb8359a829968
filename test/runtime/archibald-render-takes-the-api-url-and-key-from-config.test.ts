import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { VIDEO_DEFAULTS } from '../../runtime/pipeline/stage.js';
import { useTestEnvironment } from '../support/environment.js';
import { runCli } from '../support/processes.js';

const environment = await useTestEnvironment();

/** A stand-in API: records what it is sent and answers that the render failed, so nothing renders. */
const received: Array<{ method: string; url: string; authorization: string; body: unknown }> = [];
const fake = createServer((request, response) => {
  let text = '';
  request.on('data', (chunk: Buffer) => (text += chunk.toString()));
  request.on('end', () => {
    received.push({
      method: request.method ?? '',
      url: request.url ?? '',
      authorization: request.headers.authorization ?? '',
      body: text ? JSON.parse(text) : undefined,
    });
    const id = '00000000-0000-4000-8000-000000000001';
    response.writeHead(202, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id,
        status: 'failed',
        stage: null,
        progress: 0,
        outputUrl: null,
        captionsUrl: null,
        error: { stage: 'script', message: 'stopped by the test' },
        links: { self: `/v1/videos/${id}`, file: `/v1/videos/${id}/file` },
      }),
    );
  });
});
await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
environment.defer(() => new Promise((resolve) => fake.close(resolve)));
const apiUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
const out = join(environment.dir, 'evening.mp4');
const KEY = 'ak_test_render_key_never_printed';

test('with API_URL and ARCHIBALD_API_KEY configured, render submits the validated request there', async () => {
  received.length = 0;
  const result = await runCli(environment, ['render', 'evening rest', '--duration', '15', '--out', out], {
    API_URL: `${apiUrl}/`,
    ARCHIBALD_API_KEY: KEY,
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`rendering "evening rest" through ${apiUrl}\\n`));
  assert.match(result.stderr, /the render failed in the script stage: stopped by the test/);
  assert.deepEqual(received, [
    {
      method: 'POST',
      url: '/v1/videos',
      authorization: `Bearer ${KEY}`,
      body: { topic: 'evening rest', ...VIDEO_DEFAULTS, durationSeconds: 15 },
    },
  ]);
  assert.ok(!(result.stdout + result.stderr).includes(KEY), 'the key was printed');
});

test('the key can come from ARCHIBALD_API_KEY_FILE, as every secret can', async () => {
  received.length = 0;
  const file = join(environment.dir, 'api-key');
  await writeFile(file, `${KEY}\n`);
  const result = await runCli(environment, ['render', 'evening rest', '--out', out], {
    API_URL: apiUrl,
    ARCHIBALD_API_KEY_FILE: file,
  });
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(
    received.map((r) => [r.method, r.url, r.authorization]),
    [['POST', '/v1/videos', `Bearer ${KEY}`]],
  );
});

test('API_URL without a key, or a bad API_URL, stops render with exit code 2 before any request', async () => {
  received.length = 0;
  const keyless = await runCli(environment, ['render', 'evening rest', '--out', out], { API_URL: apiUrl });
  assert.equal(keyless.code, 2, keyless.stderr);
  assert.match(keyless.stderr, /API_URL is set, so render goes through the API: set ARCHIBALD_API_KEY/);

  const bad = await runCli(environment, ['render', 'evening rest', '--out', out], {
    API_URL: 'ftp://example.com',
    ARCHIBALD_API_KEY: KEY,
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /API_URL="ftp:\/\/example\.com": must match/);
  assert.ok(!bad.stderr.includes(KEY), 'the key was printed');
  assert.deepEqual(received, []);
});

test('a bad flag stops the archibald process with exit code 2, naming the flag', async () => {
  const result = await runCli(environment, ['render', 'evening rest', '--duration', '601'], {});
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^archibald: --duration must be <= 600 \(got "601"\)$/m);
});
