import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTimeline } from '../../runtime/stages/narration.js';
import { cuesFromNarration, toWebVtt } from '../../runtime/stages/captions.js';
import { narrationMargins } from '../../runtime/stages/timing.js';
import { parseWebVtt } from './webvtt.js';

test('lines follow each other after the lead-in and the last one ends at the closing margin', () => {
  const clipSeconds = [2, 3, 1.5, 2.5];
  const starts = planTimeline({ clipSeconds, pauseWeights: [1, 2, 1, 0], videoSeconds: 60 });
  const { leadIn, tail } = narrationMargins(60);
  assert.equal(starts[0], leadIn);
  starts
    .slice(1)
    .forEach((start, i) => assert.ok(start > (starts[i] as number) + (clipSeconds[i] as number)));
  assert.ok(Math.abs((starts[3] as number) + 2.5 - (60 - tail)) < 1e-9);
  // The pause after the second line was asked to be twice as long as the others.
  const gap = (i: number) => (starts[i + 1] as number) - (starts[i] as number) - (clipSeconds[i] as number);
  assert.ok(Math.abs(gap(1) - 0.35 - 2 * (gap(0) - 0.35)) < 1e-9);
});

test('a short video whose lines do not fit the usual margins gets tighter ones', () => {
  const starts = planTimeline({ clipSeconds: [3, 3, 3, 2.5], pauseWeights: [1, 1, 1, 0], videoSeconds: 15 });
  assert.equal(starts[0], 0.5);
  assert.ok((starts[3] as number) + 2.5 <= 15 - 0.8 + 1e-9);
});

test('speech longer than the video is refused with the numbers', () => {
  assert.throws(
    () => planTimeline({ clipSeconds: [8, 8], pauseWeights: [1, 0], videoSeconds: 15 }),
    /the narration is 16\.0 s of speech in 2 lines, too long for a 15 s video/,
  );
});

test('captions follow the clips, never overlap, and escape what WebVTT treats as markup', () => {
  const narration = {
    voice: 'slt' as const,
    speechSeconds: 4,
    endSeconds: 7,
    clips: [
      {
        file: 'a.wav',
        text: 'Rest <here> & now',
        section: 'settle' as const,
        startSeconds: 1,
        durationSeconds: 2,
      },
      { file: 'b.wav', text: 'Breathe', section: 'breath' as const, startSeconds: 3.2, durationSeconds: 2 },
    ],
  };
  const cues = cuesFromNarration(narration, 6);
  assert.deepEqual(
    cues.map((c) => [c.startSeconds, c.endSeconds]),
    [
      [1, 3.15],
      [3.2, 5.8],
    ],
  );
  const vtt = toWebVtt(cues);
  assert.match(vtt, /Rest &lt;here&gt; &amp; now/);
  assert.deepEqual(
    parseWebVtt(vtt).map((c) => [c.start, c.end]),
    [
      [1, 3.15],
      [3.2, 5.8],
    ],
  );
});
