import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { renderThroughApi } from '../../runtime/render/api-client.js';
import { pipelineStages } from '../../runtime/worker/pipeline-stages.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { startTestWorker } from '../support/worker.js';
import { S3RVER_CREDENTIALS, startS3rver } from '../../drills/support/s3rver.js';

// The API and the worker take credentials from the SDK's default chain, as pods do.
process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;

const environment = await useTestEnvironment();
const s3 = await startS3rver({ directory: join(environment.dir, 's3'), buckets: ['videos'] });
const { endpoint } = s3;
environment.defer(() => s3.close());
const s3Env = { S3_BUCKET: 'videos', S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true' };

// One API without a CDN (presigned URLs), one with the bucket's public URL as its CDN.
const presigning = await startTestApi(environment, { ...s3Env, S3_PRESIGNED_URL_SECONDS: '120' });
const cdnBaseUrl = `${endpoint}/videos`;
const behindCdn = await startTestApi(environment, { ...s3Env, CDN_BASE_URL: cdnBaseUrl });
await startTestWorker(environment, pipelineStages(environment.config(s3Env)), s3Env);
const { key } = await createTestKey(environment);
const { key: otherKey } = await createTestKey(environment, 'someone else');

const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
environment.defer(() => client.destroy());
async function object(objectKey: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: 'videos', Key: objectKey }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

let videoId: string;

/**
 * Checks a presigned URL's SigV4 signature the way S3 does (s3rver does not check V4 query
 * signatures): the canonical request of a GET with only the host header signed.
 */
function sigV4Valid(url: URL, secretAccessKey: string): boolean {
  const q = url.searchParams;
  const [, date, region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...q.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [enc(name), enc(value)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonical = ['GET', url.pathname, query, `host:${url.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join(
    '\n',
  );
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    q.get('X-Amz-Date'),
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(date!).digest();
  for (const part of [region!, service!, 'aws4_request'])
    key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex') === q.get('X-Amz-Signature');
}

test('archibald render through the API on S3 storage downloads the exact published bytes', async () => {
  const out = join(environment.dir, 'out', 'calm.mp4');
  const { video, file } = await renderThroughApi({
    apiUrl: presigning.url,
    apiKey: key,
    spec: {
      topic: 'tide pools',
      durationSeconds: 15,
      aspect: '16:9',
      resolution: '720p',
      voice: 'slt',
      style: 'calm',
      burnCaptions: false,
    },
    out,
    signal: new AbortController().signal,
    onProgress: () => {},
    pollMs: 250,
  });
  assert.equal(video.status, 'completed');
  videoId = video.id;
  assert.equal(file, out);
  const published = await object(`videos/${videoId}.mp4`);
  assert.ok(published.length > 10_000, `${published.length} bytes`);
  assert.ok((await readFile(out)).equals(published), 'the downloaded video differs from the object');
  assert.ok(
    (await readFile(join(environment.dir, 'out', 'calm.vtt'))).equals(await object(`videos/${videoId}.vtt`)),
    'the downloaded captions differ from the object',
  );
});

test('the SigV4 check accepts the presigned URL of the S3 documentation’s example', () => {
  // docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
  const example = new URL(
    'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
      '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  );
  assert.ok(sigV4Valid(example, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'));
  assert.ok(!sigV4Valid(example, 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ'));
});

test('without a CDN the API answers 302 to a short-lived presigned URL that serves the bytes, Range included', async () => {
  assert.ok(videoId, 'the render test ran first');
  for (const [route, objectKey] of [
    ['file', `videos/${videoId}.mp4`],
    ['captions', `videos/${videoId}.vtt`],
  ] as const) {
    const redirect = await fetch(`${presigning.url}/v1/videos/${videoId}/${route}`, {
      headers: { authorization: `Bearer ${key}` },
      redirect: 'manual',
    });
    assert.equal(redirect.status, 302, route);
    assert.equal(redirect.headers.get('cache-control'), 'private, no-store');
    const location = new URL(redirect.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, `${endpoint}/videos/${objectKey}`);
    assert.equal(location.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(location.searchParams.get('X-Amz-Expires'), '120');
    assert.match(
      location.searchParams.get('X-Amz-Credential') ?? '',
      /^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/,
    );
    assert.ok(sigV4Valid(location, 'S3RVER'), `the signature of ${location.href} does not verify`);
    assert.ok(!sigV4Valid(location, 'another secret'));

    // Followed as a client does: the Bearer header stays behind (S3 refuses two auth mechanisms).
    const followed = await fetch(`${presigning.url}/v1/videos/${videoId}/${route}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(followed.status, 200, await followed.clone().text());
    assert.ok(Buffer.from(await followed.arrayBuffer()).equals(await object(objectKey)), route);
  }
  const whole = await object(`videos/${videoId}.mp4`);
  const ranged = await fetch(`${presigning.url}/v1/videos/${videoId}/file`, {
    headers: { authorization: `Bearer ${key}`, range: 'bytes=100-1099' },
  });
  assert.equal(ranged.status, 206);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(whole.subarray(100, 1100)));
});

test('with CDN_BASE_URL the API answers 302 to the CDN URL of the object, which serves the bytes', async () => {
  assert.ok(videoId, 'the render test ran first');
  const call = apiClient(behindCdn.url, key);
  for (const [route, objectKey] of [
    ['file', `videos/${videoId}.mp4`],
    ['captions', `videos/${videoId}.vtt`],
  ] as const) {
    const redirect = await fetch(`${behindCdn.url}/v1/videos/${videoId}/${route}`, {
      headers: { authorization: `Bearer ${key}` },
      redirect: 'manual',
    });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), `${cdnBaseUrl}/${objectKey}`);
    const followed = await call('GET', `/v1/videos/${videoId}/${route}`);
    assert.equal(followed.status, 200);
    const body = await fetch(`${cdnBaseUrl}/${objectKey}`);
    assert.ok(Buffer.from(await body.arrayBuffer()).equals(await object(objectKey)));
  }
});

test('the redirect is only for the video’s owner: no key is a 401, another key a 404', async () => {
  assert.ok(videoId, 'the render test ran first');
  for (const api of [presigning, behindCdn]) {
    const anonymous = await fetch(`${api.url}/v1/videos/${videoId}/file`, { redirect: 'manual' });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('location'), null);
    const other = await fetch(`${api.url}/v1/videos/${videoId}/file`, {
      headers: { authorization: `Bearer ${otherKey}` },
      redirect: 'manual',
    });
    assert.equal(other.status, 404);
    assert.equal(other.headers.get('location'), null);
  }
});
