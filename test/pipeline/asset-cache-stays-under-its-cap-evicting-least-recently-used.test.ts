import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../runtime/media/ffmpeg.js';
import { AssetCache } from '../../runtime/stages/asset-cache.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-lru-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** One second of a tone as 16-bit mono WAV at 48 kHz: 96,044 bytes. */
const TONE_BYTES = 96_044;
let renders: number[] = [];
const tone = (hz: number) => (target: string, signal: AbortSignal) => {
  renders.push(hz);
  return runFfmpeg({
    inputs: [{ source: `sine=f=${hz}:r=48000:d=1`, options: ['-f', 'lavfi'] }],
    outputs: [{ target, options: ['-c:a', 'pcm_s16le', '-ac', '1'] }],
    signal,
    timeoutSeconds: 30,
  });
};

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
}

test('the cache stays under its cap, evicts the least recently used, and never a pinned entry', async () => {
  const dir = join(root, 'cache');
  // Room for three tones, not four.
  const cache = new AssetCache(dir, { maxBytes: 3 * TONE_BYTES + 1000 });
  const use = (hz: number, holder?: string) =>
    cache.getOrCreate('tone', { hz }, 'wav', tone(hz), holder ? { holder } : {});

  for (const hz of [220, 330, 440]) await use(hz);
  assert.equal((await entries(dir)).length, 3);
  renders = [];
  // 220 is used again (a hit): now 330 is the least recently used.
  assert.equal((await use(220)).hit, true);
  assert.deepEqual(renders, [], 'a hit renders nothing');
  await use(550);
  assert.equal(await cache.has('tone', { hz: 330 }, 'wav'), false, '330 was the least recently used');
  for (const hz of [220, 440, 550]) assert.equal(await cache.has('tone', { hz }, 'wav'), true, `${hz}`);
  assert.ok((await cache.size()) <= cache.maxBytes, `${await cache.size()} bytes`);

  // A running job holds 660 (its work directory exists): it outlives three newer entries.
  const job = await mkdtemp(join(root, 'job-'));
  await use(660, job);
  for (const hz of [770, 880, 990]) {
    await use(hz);
    assert.ok((await cache.size()) <= cache.maxBytes, `${await cache.size()} bytes after ${hz}`);
  }
  assert.equal(await cache.has('tone', { hz: 660 }, 'wav'), true, 'the pinned entry stays');
  for (const hz of [220, 440, 550, 770]) assert.equal(await cache.has('tone', { hz }, 'wav'), false, `${hz}`);
  for (const hz of [880, 990]) assert.equal(await cache.has('tone', { hz }, 'wav'), true, `${hz}`);

  // The job ends (its directory goes): 660 is the least recently used and the next entry evicts it.
  await rm(job, { recursive: true });
  await use(1100);
  assert.equal(await cache.has('tone', { hz: 660 }, 'wav'), false, 'unpinned, it is evicted');
  assert.equal((await entries(dir)).length, 3);
  assert.ok((await cache.size()) <= cache.maxBytes);

  // An evicted asset is rendered again when asked for.
  renders = [];
  const again = await use(330);
  assert.equal(again.hit, false);
  assert.deepEqual(renders, [330]);
});

test('copying out an evicted entry is a miss (the narrator speaks the line again), not an error', async () => {
  const dir = join(root, 'lines');
  const cache = new AssetCache(dir, { maxBytes: TONE_BYTES + 1000 });
  await cache.getOrCreate('tone', { hz: 220 }, 'wav', tone(220));
  const out = join(root, 'copied.wav');
  assert.equal(await cache.copyOut('tone', { hz: 220 }, 'wav', out), true);
  await cache.getOrCreate('tone', { hz: 330 }, 'wav', tone(330));
  assert.equal(await cache.copyOut('tone', { hz: 220 }, 'wav', out), false, 'evicted: a miss, not an error');
});
