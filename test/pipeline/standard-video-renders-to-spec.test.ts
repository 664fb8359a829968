import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStages } from '../../runtime/pipeline/stages.js';
import { measureLoudness } from '../../runtime/media/analysis.js';
import { probeMedia } from '../../runtime/media/ffmpeg.js';
import type { NarrationOutput } from '../../runtime/stages/narration.js';
import type { PublishOutput } from '../../runtime/stages/publish.js';
import type { VisualsOutput } from '../../runtime/stages/visuals.js';
import { decodeMono, envelopeDb } from './audio-envelope.js';
import { runStages, standardSpec, type StageRun } from './stage-runner.js';
import { parseWebVtt, type ParsedCue } from './webvtt.js';

let root: string;
let run: StageRun;
let videoFile: string;
let cues: ParsedCue[];
let narration: NarrationOutput;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-standard-'));
  const stages = createStages({
    storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
    assetCacheDir: join(root, 'cache'),
    ffmpegTimeoutSeconds: 300,
  });
  // The work directory is kept so the narration clips can be compared with the video.
  run = await runStages(stages, standardSpec, { workDir: join(root, 'work'), keepWorkDir: true });
  videoFile = join(root, 'videos', 'videos', `${run.videoId}.mp4`);
  cues = parseWebVtt(await readFile(join(root, 'videos', 'videos', `${run.videoId}.vtt`), 'utf8'));
  narration = run.outputs.narration as NarrationOutput;
});

after(() => rm(root, { recursive: true, force: true }));

test('the published video is 60 s of 1280x720 H.264 with AAC sound', async () => {
  const info = await probeMedia(videoFile);
  assert.ok(Math.abs(info.durationSeconds - 60) <= 0.5, `duration ${info.durationSeconds}`);
  const video = info.streams.find((s) => s.type === 'video');
  const audio = info.streams.find((s) => s.type === 'audio');
  assert.equal(video?.codec, 'h264');
  assert.equal(video?.width, 1280);
  assert.equal(video?.height, 720);
  assert.equal(audio?.codec, 'aac');
  assert.ok(info.formatName.includes('mp4'));
  const published = run.outputs.publish as PublishOutput;
  assert.equal(published.videoUrl, `http://127.0.0.1:8080/v1/videos/${run.videoId}/file`);
  assert.equal(published.key, `videos/${run.videoId}.mp4`);
  assert.equal(published.bytes, info.sizeBytes);
  assert.equal(published.contentType, 'video/mp4');
});

test('the moov atom comes first (faststart), so playback starts before the download ends', async () => {
  const head = (await readFile(videoFile)).subarray(0, 4096).toString('latin1');
  assert.ok(head.indexOf('moov') >= 0 && head.indexOf('moov') < Math.max(head.indexOf('mdat'), 4096));
  assert.ok(head.indexOf('mdat') === -1 || head.indexOf('moov') < head.indexOf('mdat'));
});

test('the sound is loudness-normalised speech, not silence', async () => {
  const loudness = await measureLoudness(videoFile);
  assert.ok(
    loudness.integratedLufs > -20 && loudness.integratedLufs < -12,
    `integrated ${loudness.integratedLufs} LUFS`,
  );
  assert.ok(loudness.peakDbfs <= 0, `peak ${loudness.peakDbfs} dBFS`);
});

test('there is one cue per narrated line, each covering its line and inside the video', () => {
  assert.equal(cues.length, narration.clips.length);
  cues.forEach((cue, i) => {
    const clip = narration.clips[i];
    assert.ok(clip);
    assert.equal(cue.text, clip.text);
    assert.ok(cue.start >= 0 && cue.end <= 60, `cue ${i} ${cue.start}-${cue.end} outside the video`);
    assert.ok(
      cue.start <= clip.startSeconds + 0.001 && cue.end >= clip.startSeconds + clip.durationSeconds - 0.001,
    );
    if (i > 0) assert.ok(cue.start >= (cues[i - 1] as ParsedCue).end, `cue ${i} overlaps the one before`);
  });
});

test('each cue starts within 100 ms of its line being heard in the video', async () => {
  const windowSeconds = 0.01;
  const mix = envelopeDb(await decodeMono(videoFile), windowSeconds);
  for (const [i, clip] of narration.clips.entries()) {
    // Where the clip's own loudness contour lines up best with the video's sound, ±0.4 s around
    // the cue: that is where the line is heard.
    const own = envelopeDb(await decodeMono(join(run.workDir, clip.file)), windowSeconds);
    const cueAt = Math.round((cues[i] as ParsedCue).start / windowSeconds);
    let best = { lag: 0, r: -1 };
    for (let lag = -40; lag <= 40; lag++) {
      const r = correlation(own, mix.slice(cueAt + lag, cueAt + lag + own.length));
      if (r > best.r) best = { lag, r };
    }
    assert.ok(
      best.r > 0.6,
      `line ${i} "${clip.text}" is not heard near its cue (best match r=${best.r.toFixed(2)})`,
    );
    assert.ok(
      Math.abs(best.lag * windowSeconds) <= 0.1,
      `line ${i} "${clip.text}": cue at ${(cues[i] as ParsedCue).start} s, heard ${(best.lag * windowSeconds).toFixed(2)} s off`,
    );
  }
});

function correlation(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 10) return -1;
  const mean = (xs: number[]) => xs.slice(0, n).reduce((s, x) => s + x, 0) / n;
  const [ma, mb] = [mean(a), mean(b)];
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb || 1);
}

test('the background loop went to the asset cache and the work directory holds the parts', () => {
  const visuals = run.outputs.visuals as VisualsOutput;
  assert.ok(visuals.loopFile.startsWith(join(root, 'cache')));
  assert.equal(visuals.cacheHit, false);
});
