import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import type { Stage, VideoSpec } from '../../runtime/pipeline/stage.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import type { AmbientOutput } from '../../runtime/stages/ambient.js';
import { ambientLook } from '../../runtime/stages/look.js';
import { decodeMono, ENVELOPE_RATE, envelopeDb } from './audio-envelope.js';
import { runStages, standardSpec } from './stage-runner.js';

let root: string;
let stages: Stage[];
const cacheDir = () => join(root, 'cache');
const beds = async () => (await readdir(cacheDir())).filter((n) => /^bed-[0-9a-f]+\.wav$/.test(n));

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-beds-'));
  stages = createStages({
    storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
    assetCacheDir: cacheDir(),
    ffmpegTimeoutSeconds: 300,
  }).filter((s) => s.name !== 'publish');
});
after(() => rm(root, { recursive: true, force: true }));

test('one bed per look serves every duration, and the video has its sound from start to end', async () => {
  // The longer one outlasts the bed's loop (40 s), so the loop must repeat.
  const durations = [20, 55];
  const runs = [];
  for (const durationSeconds of durations) {
    const spec: VideoSpec = { ...standardSpec, durationSeconds, seed: 'bed-per-look' };
    const workDir = join(root, `work-${durationSeconds}`);
    runs.push({ spec, workDir, run: await runStages(stages, spec, { workDir, keepWorkDir: true }) });
  }
  assert.equal((await beds()).length, 1, `one bed file: ${(await beds()).join(', ')}`);
  const [short, long] = runs.map((r) => r.run.outputs.ambient as AmbientOutput);
  assert.equal(short?.cacheHit, false);
  assert.equal(long?.cacheHit, true, 'the longer video reused the bed');
  assert.equal(long?.bedFile, short?.bedFile);
  const bed = await probeMedia(long?.bedFile as string);
  assert.ok(bed.durationSeconds < 55 - 10, `a bed of ${bed.durationSeconds} s loops under a 55 s video`);

  for (const { spec, workDir } of runs) {
    const seconds = spec.durationSeconds;
    const video = join(workDir, 'video.mp4');
    assert.ok(Math.abs((await probeMedia(video)).durationSeconds - seconds) < 0.2);
    // Half-second windows between the bed's fade-in and fade-out: never near silence, also
    // in the pauses between lines and past the loop's end.
    const levels = envelopeDb(await decodeMono(video), 0.5);
    const inside = levels.slice(3 * 2, (seconds - 4) * 2);
    const quietest = Math.min(...inside);
    const at = inside.indexOf(quietest) / 2 + 3;
    assert.ok(quietest > -60, `${seconds} s video: ${quietest.toFixed(1)} dBFS at ${at} s`);
  }
  await Promise.all(runs.map((r) => rm(r.workDir, { recursive: true, force: true })));
});

test('the bed loops seamlessly: its end runs on into its start', async () => {
  const [name] = await beds();
  assert.ok(name, 'the first test rendered a bed');
  const samples = await decodeMono(join(cacheDir(), name));
  let largestStep = 0;
  for (let i = 1; i < samples.length; i++)
    largestStep = Math.max(largestStep, Math.abs((samples[i] as number) - (samples[i - 1] as number)));
  const seam = Math.abs((samples[0] as number) - (samples[samples.length - 1] as number));
  assert.ok(seam <= largestStep, `a step of ${seam} at the seam, at most ${largestStep} elsewhere`);
  // No fade and no jump in level: the half-seconds either side of the seam are as loud as the bed.
  const half = ENVELOPE_RATE / 2;
  const [whole] = envelopeDb(samples, samples.length / ENVELOPE_RATE);
  const [end] = envelopeDb(samples.subarray(samples.length - half), 0.5);
  const [start] = envelopeDb(samples.subarray(0, half), 0.5);
  for (const [where, level] of [
    ['before', end],
    ['after', start],
  ] as const)
    assert.ok(
      Math.abs((level as number) - (whole as number)) < 3,
      `${(level as number).toFixed(1)} dB ${where} the seam, ${(whole as number).toFixed(1)} dB overall`,
    );
});

test('noise beds share one file whatever their tone', async () => {
  // Two seeds whose look is the same noise with different tones.
  const seeds = Array.from({ length: 200 }, (_, i) => `noise-${i}`);
  const looks = seeds.map((seed) => ({ seed, look: ambientLook({ style: 'focus', seed }) }));
  const first = looks.find((l) => l.look.kind === 'pink-noise');
  const second = looks.find((l) => l.look.kind === 'pink-noise' && l.look.toneHz !== first?.look.toneHz);
  assert.ok(first && second);
  const ambient = stages.filter((s) => s.name === 'ambient');
  const outputs = [];
  for (const { seed } of [first, second]) {
    const spec: VideoSpec = { ...standardSpec, style: 'focus', seed };
    outputs.push((await runStages(ambient, spec)).outputs.ambient as AmbientOutput);
  }
  assert.equal(outputs[1]?.bedFile, outputs[0]?.bedFile);
  assert.equal(outputs[1]?.cacheHit, true);
});
