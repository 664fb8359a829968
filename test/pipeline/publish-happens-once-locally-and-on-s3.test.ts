import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StageName } from '../../runtime/pipeline/stage.js';
import { createStages, type RenderOptions } from '../../runtime/pipeline/stages.js';
import type { AssembleOutput } from '../../runtime/stages/assemble.js';
import type { PublishOutput } from '../../runtime/stages/publish.js';
import { runStages, standardSpec } from './stage-runner.js';
import { S3RVER_CREDENTIALS, startS3rver, type RunningS3rver } from '../../drills/support/s3rver.js';

const spec = { ...standardSpec, durationSeconds: 15 };
const credentials = S3RVER_CREDENTIALS;
let root: string;
let videoId: string;
/** Outputs as the worker stores them on the job: through JSON. */
let storedOutputs: Partial<Record<StageName, unknown>>;
let s3: RunningS3rver | undefined;

const localOptions = (): RenderOptions => ({
  storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080/' },
  assetCacheDir: join(root, 'cache'),
  ffmpegTimeoutSeconds: 120,
});
const workDir = () => join(root, 'work');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-publish-'));
  s3 = await startS3rver({ directory: join(root, 's3'), buckets: ['videos'] });
  const stages = createStages(localOptions());
  const upToAssemble = stages.slice(
    0,
    stages.findIndex((s) => s.name === 'publish'),
  );
  const run = await runStages(upToAssemble, spec, { workDir: workDir(), keepWorkDir: true });
  videoId = run.videoId;
  storedOutputs = JSON.parse(JSON.stringify(run.outputs)) as typeof storedOutputs;
});

after(async () => {
  await s3?.close();
  await rm(root, { recursive: true, force: true });
});

test('a retry after a crash between assemble and publish reuses the video and publishes it once', async () => {
  // A new worker process: new stages, the job's stored outputs, the same work directory.
  const first = await runStages(createStages(localOptions()), spec, {
    videoId,
    workDir: workDir(),
    keepWorkDir: true,
    outputs: storedOutputs,
  });
  assert.deepEqual(
    [...new Set(first.progress.map((p) => p.stage))],
    ['publish'],
    'only publish ran; the stored outputs were reused',
  );
  const published = first.outputs.publish as PublishOutput;
  const file = join(root, 'videos', 'videos', `${videoId}.mp4`);
  const captionsFile = join(root, 'videos', 'videos', `${videoId}.vtt`);
  const before = await stat(file);
  assert.equal(before.size, (storedOutputs.assemble as AssembleOutput).bytes);
  assert.deepEqual(published, {
    videoUrl: `http://127.0.0.1:8080/v1/videos/${videoId}/file`,
    captionsUrl: `http://127.0.0.1:8080/v1/videos/${videoId}/captions`,
    key: `videos/${videoId}.mp4`,
    bytes: before.size,
    sha256: createHash('sha256')
      .update(await readFile(file))
      .digest('hex'),
    captionsKey: `videos/${videoId}.vtt`,
    captionsBytes: (await stat(captionsFile)).size,
    captionsSha256: createHash('sha256')
      .update(await readFile(captionsFile))
      .digest('hex'),
    contentType: 'video/mp4',
    durationSeconds: (storedOutputs.assemble as AssembleOutput).durationSeconds,
  });

  // The worker crashes again after publishing but before recording it: publish runs again.
  const { publish: _published, ...withoutPublish } = first.outputs;
  const second = await runStages(createStages(localOptions()), spec, {
    videoId,
    workDir: workDir(),
    keepWorkDir: true,
    outputs: withoutPublish,
  });
  assert.deepEqual(second.outputs.publish, published);
  const after = await stat(file);
  assert.equal(after.ino, before.ino, 'the video file was not written again');
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.deepEqual((await readdir(join(root, 'videos', 'videos'))).sort(), [
    `${videoId}.mp4`,
    `${videoId}.vtt`,
  ]);
  assert.match(await readFile(join(root, 'videos', 'videos', `${videoId}.vtt`), 'utf8'), /^WEBVTT\n/);
});

test('S3 publish stores the video with its content type under the CDN URL, once', async () => {
  const endpoint = s3!.endpoint;
  const options: RenderOptions = {
    ...localOptions(),
    storage: {
      s3: {
        bucket: 'videos',
        region: 'us-east-1',
        endpoint,
        forcePathStyle: true,
        cdnBaseUrl: 'https://cdn.example.test',
        credentials,
      },
    },
  };
  const publishOnly = (outputs: typeof storedOutputs) =>
    runStages(createStages(options).slice(-1), spec, {
      videoId,
      workDir: workDir(),
      keepWorkDir: true,
      outputs,
    });
  const first = await publishOnly(storedOutputs);
  const published = first.outputs.publish as PublishOutput;
  assert.equal(published.videoUrl, `https://cdn.example.test/videos/${videoId}.mp4`);
  assert.equal(published.captionsUrl, `https://cdn.example.test/videos/${videoId}.vtt`);

  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials });
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: 'videos', Key: published.key }));
    assert.equal(object.ContentType, 'video/mp4');
    const body = Buffer.from(await object.Body!.transformToByteArray());
    assert.ok(body.equals(await readFile(join(workDir(), (storedOutputs.assemble as AssembleOutput).file))));
    const captions = await client.send(
      new GetObjectCommand({ Bucket: 'videos', Key: `videos/${videoId}.vtt` }),
    );
    assert.match(captions.ContentType ?? '', /^text\/vtt/);

    const modified = object.LastModified?.getTime();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // S3 times have one-second resolution
    const again = await publishOnly(storedOutputs);
    assert.deepEqual(again.outputs.publish, published);
    const after = await client.send(new GetObjectCommand({ Bucket: 'videos', Key: published.key }));
    await after.Body?.transformToByteArray();
    assert.equal(after.LastModified?.getTime(), modified, 'the second publish did not upload again');
    const listing = await client.send(new ListObjectsV2Command({ Bucket: 'videos' }));
    assert.deepEqual(listing.Contents?.map((o) => o.Key).sort(), [
      `videos/${videoId}.mp4`,
      `videos/${videoId}.vtt`,
    ]);
  } finally {
    client.destroy();
  }
});
