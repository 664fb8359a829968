import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegError, probeMedia, runFfmpeg } from '../../runtime/media/ffmpeg.js';
import { readWavInfo } from '../../runtime/media/wav.js';
import { ffmpegDescendants } from './processes.js';

/** A long synthetic encode: ample time to observe progress and to stop it midway. */
const longEncode = {
  inputs: [{ source: 'testsrc2=s=640x360:r=25:d=600', options: ['-f', 'lavfi'] }],
  outputs: [{ target: '/dev/null', options: ['-c:v', 'libx264', '-preset', 'medium', '-f', 'null'] }],
  expectedDurationSeconds: 600,
};

test('progress rises from ffmpeg’s own time marks and ends at 1', async () => {
  const seen: number[] = [];
  await runFfmpeg({
    inputs: [{ source: 'testsrc2=s=640x360:r=25:d=12', options: ['-f', 'lavfi'] }],
    outputs: [{ target: '/dev/null', options: ['-c:v', 'libx264', '-preset', 'medium', '-f', 'null'] }],
    expectedDurationSeconds: 12,
    onProgress: (f) => seen.push(f),
  });
  assert.ok(
    seen.some((f) => f > 0 && f < 1),
    `expected progress on the way, got ${JSON.stringify(seen)}`,
  );
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    seen,
    'progress went backwards',
  );
  assert.equal(seen.at(-1), 1);
});

test('a bad filter fails with ffmpeg’s own error line', async () => {
  await assert.rejects(
    runFfmpeg({
      inputs: [{ source: 'testsrc2=d=1', options: ['-f', 'lavfi'] }],
      filterComplex: '[0:v]nosuchfilter=1[v]',
      outputs: [{ target: '/dev/null', options: ['-map', '[v]', '-f', 'null'] }],
    }),
    (error: unknown) => {
      assert.ok(error instanceof FfmpegError);
      assert.equal(error.failure, 'failed');
      assert.match(error.message, /No such filter: 'nosuchfilter'/);
      return true;
    },
  );
  assert.deepEqual(await ffmpegDescendants(), []);
});

test('aborting stops ffmpeg and leaves no ffmpeg process behind', async () => {
  const controller = new AbortController();
  let running = false;
  const run = runFfmpeg({
    ...longEncode,
    signal: controller.signal,
    onProgress: (f) => {
      if (f > 0 && !running) {
        running = true;
        controller.abort(new Error('cancelled by the test'));
      }
    },
  });
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.failure, 'aborted');
    assert.match(error.message, /cancelled by the test/);
    return true;
  });
  assert.ok(running, 'ffmpeg was stopped before it reported progress');
  assert.deepEqual(await ffmpegDescendants(), []);
});

test('an already aborted signal never starts ffmpeg', async () => {
  const controller = new AbortController();
  controller.abort(new Error('too late'));
  await assert.rejects(runFfmpeg({ ...longEncode, signal: controller.signal }), /too late/);
  assert.deepEqual(await ffmpegDescendants(), []);
});

test('a run past its time limit is killed and reported as a timeout', async () => {
  await assert.rejects(runFfmpeg({ ...longEncode, timeoutSeconds: 1 }), (error: unknown) => {
    assert.ok(error instanceof FfmpegError);
    assert.equal(error.failure, 'timeout');
    assert.match(error.message, /1 s limit/);
    return true;
  });
  assert.deepEqual(await ffmpegDescendants(), []);
});

test('a WAV header gives the same length as ffprobe', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'archibald-test-wav-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'tone.wav');
  await runFfmpeg({
    inputs: [{ source: 'sine=f=440:r=16000:d=2.345', options: ['-f', 'lavfi'] }],
    outputs: [{ target: file, options: ['-c:a', 'pcm_s16le'] }],
  });
  const [header, probe] = await Promise.all([readWavInfo(file), probeMedia(file)]);
  assert.equal(header.sampleRate, 16000);
  assert.ok(
    Math.abs(header.durationSeconds - probe.durationSeconds) < 0.001,
    `${header.durationSeconds} vs ${probe.durationSeconds}`,
  );
  assert.ok(Math.abs(header.durationSeconds - 2.345) < 0.001);
});
