import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stage, VideoSpec } from '../../runtime/pipeline/stage.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import type { VisualsOutput } from '../../runtime/stages/visuals.js';
import { runStages, standardSpec } from './stage-runner.js';
import { parseWebVtt } from './webvtt.js';

let root: string;
let stages: Stage[];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-shapes-'));
  stages = createStages({
    storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
    assetCacheDir: join(root, 'cache'),
    ffmpegTimeoutSeconds: 600,
  });
});

after(() => rm(root, { recursive: true, force: true }));

async function render(spec: VideoSpec) {
  const run = await runStages(stages, spec);
  const file = join(root, 'videos', 'videos', `${run.videoId}.mp4`);
  const info = await probeMedia(file);
  const video = info.streams.find((s) => s.type === 'video');
  const cues = parseWebVtt(await readFile(join(root, 'videos', 'videos', `${run.videoId}.vtt`), 'utf8'));
  return { run, info, video, cues };
}

const shapes = [
  { aspect: '9:16', resolution: '1080p', width: 1080, height: 1920 },
  { aspect: '1:1', resolution: '1080p', width: 1080, height: 1080 },
  { aspect: '16:9', resolution: '1080p', width: 1920, height: 1080 },
] as const;

for (const shape of shapes) {
  test(`${shape.aspect} at ${shape.resolution} is ${shape.width}x${shape.height}`, async () => {
    const { info, video } = await render({
      ...standardSpec,
      aspect: shape.aspect,
      resolution: shape.resolution,
      durationSeconds: 15,
    });
    assert.equal(video?.width, shape.width);
    assert.equal(video?.height, shape.height);
    assert.ok(Math.abs(info.durationSeconds - 15) <= 0.5, `duration ${info.durationSeconds}`);
  });
}

for (const durationSeconds of [15, 300]) {
  test(`a ${durationSeconds} s video lasts ${durationSeconds} s and its captions stay inside it`, async () => {
    const { info, cues, run } = await render({ ...standardSpec, durationSeconds });
    assert.ok(Math.abs(info.durationSeconds - durationSeconds) <= 0.5, `duration ${info.durationSeconds}`);
    assert.ok(cues.length >= 4);
    assert.ok(cues.every((c) => c.start >= 0 && c.end <= durationSeconds && c.start < c.end));
    // The narration fills the video: it ends within the closing margin, not half way through.
    assert.ok((cues.at(-1)?.end ?? 0) > durationSeconds * 0.85);
    // The 15 s render made this look's background loop; the 300 s one reuses it.
    if (durationSeconds === 300) assert.equal((run.outputs.visuals as VisualsOutput).cacheHit, true);
  });
}
