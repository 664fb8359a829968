import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureLoudness } from '../../runtime/media/analysis.js';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import { BED_LOOP_SECONDS, renderBed } from '../../runtime/stages/ambient.js';
import { AssetCache } from '../../runtime/stages/asset-cache.js';
import type { BedKind } from '../../runtime/stages/look.js';
import { layoutTitle, loopSize, renderBackgroundLoop, VIDEO_FPS } from '../../runtime/stages/visuals.js';

let dir: string;
const signal = new AbortController().signal;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archibald-test-looks-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const kinds: BedKind[] = ['brown-noise', 'brown-noise-drone', 'pink-noise', 'soft-tones'];

for (const kind of kinds) {
  test(`the ${kind} bed renders one loop, audible but quiet`, async () => {
    const file = join(dir, `${kind}.wav`);
    await renderBed(file, { kind, toneHz: 130.81 }, { signal, timeoutSeconds: 60 });
    const info = await probeMedia(file);
    assert.ok(Math.abs(info.durationSeconds - BED_LOOP_SECONDS) < 0.01, `${info.durationSeconds}`);
    const loudness = await measureLoudness(file);
    assert.ok(
      loudness.integratedLufs > -50 && loudness.integratedLufs < -20,
      `${kind}: ${loudness.integratedLufs} LUFS`,
    );
  });
}

test('a background loop is rendered once per look and then reused', async () => {
  const cache = new AssetCache(join(dir, 'cache'));
  const look = { palette: ['0x1d3557', '0x457b9d', '0xa8dadc', '0x6d9dc5'], turnSeconds: 40 } as const;
  const size = loopSize(1280, 720);
  let renders = 0;
  const render = (target: string) => {
    renders++;
    return renderBackgroundLoop(target, look, size, { signal, timeoutSeconds: 120 });
  };
  // Two jobs asking at once share one render.
  const [a, b] = await Promise.all([
    cache.getOrCreate('background', { look, size }, 'mp4', render),
    cache.getOrCreate('background', { look, size }, 'mp4', render),
  ]);
  const c = await cache.getOrCreate('background', { look, size }, 'mp4', render);
  assert.equal(renders, 1);
  assert.equal(a.path, b.path);
  assert.equal(c.path, a.path);
  assert.equal(c.hit, true);
  const info = await probeMedia(a.path);
  const video = info.streams.find((s) => s.type === 'video');
  assert.deepEqual([video?.width, video?.height, video?.frameRate], [320, 180, VIDEO_FPS]);
  assert.ok(Math.abs(info.durationSeconds - 40) < 0.1);
  assert.ok((await stat(a.path)).size > 0);
});

test('a long title is wrapped into at most three lines that fit the frame', () => {
  const long = 'a very long topic about letting go of the day and settling into a quiet evening by the sea';
  const wide = layoutTitle(long, 1280, 720);
  const tall = layoutTitle(long, 720, 1280);
  assert.ok(wide.lines.length <= 3 && tall.lines.length <= 3);
  assert.ok(tall.lines.every((l) => l.length * tall.fontSize * 0.55 <= 720 * 0.8 + tall.fontSize));
  assert.deepEqual(layoutTitle('Morning Calm', 1280, 720).lines, ['Morning Calm']);
});
