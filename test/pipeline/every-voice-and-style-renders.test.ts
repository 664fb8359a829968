import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import { STYLES, VOICES, type Stage } from '../../runtime/pipeline/stage.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import { runStages, standardSpec } from './stage-runner.js';

let root: string;
let stages: Stage[];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-voices-'));
  stages = createStages({
    storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
    assetCacheDir: join(root, 'cache'),
    ffmpegTimeoutSeconds: 300,
  });
});
after(() => rm(root, { recursive: true, force: true }));

// Each voice has its own sample rate (kal speaks at 8 kHz) and each style its own look and bed.
VOICES.forEach((voice, i) => {
  const style = STYLES[i % STYLES.length]!;
  test(`the ${voice} voice with the ${style} style renders a whole video`, async () => {
    const run = await runStages(stages, { ...standardSpec, voice, style, durationSeconds: 15, seed: voice });
    const info = await probeMedia(join(root, 'videos', 'videos', `${run.videoId}.mp4`));
    assert.ok(Math.abs(info.durationSeconds - 15) <= 0.5);
    assert.deepEqual(
      info.streams.map((s) => s.codec),
      ['h264', 'aac'],
    );
  });
});
