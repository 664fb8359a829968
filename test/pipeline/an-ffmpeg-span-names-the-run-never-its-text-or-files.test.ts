import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterNames, summarizeFfmpeg } from '../../runtime/media/ffmpeg-summary.js';

test('an ffmpeg span names the program, input kinds, filters, codecs and containers, never a text or a file name', () => {
  const attributes = summarizeFfmpeg({
    inputs: [
      { source: "flite=text='Quokka, breathe; slowly':voice=slt", options: ['-f', 'lavfi'] },
      { source: 'quokka-line-3.wav' },
      { source: 'anoisesrc=color=pink:amplitude=0.1', options: ['-f lavfi', '-t', '15'] },
    ],
    filterComplex:
      "[0:a]aresample=48000,volume=0.8[v];[1:v]scale=1280:720,drawtext=text='Quokka\\, dawn':fontsize=40[t];" +
      '[t]subtitles=quokka.ass[out];[v][2:a]amix=inputs=2[a]',
    outputs: [
      { target: 'quokka-final.mp4', options: ['-c:v libx264', '-c:a', 'aac', '-movflags', '+faststart'] },
    ],
    expectedDurationSeconds: 15,
  });
  assert.deepEqual(attributes, {
    'process.executable.name': 'ffmpeg',
    'archibald.ffmpeg.inputs': ['lavfi:flite', 'file:wav', 'lavfi:anoisesrc'],
    'archibald.ffmpeg.filters': ['aresample', 'volume', 'scale', 'drawtext', 'subtitles', 'amix'],
    'archibald.ffmpeg.codecs': ['libx264', 'aac'],
    'archibald.ffmpeg.outputs': ['mp4'],
    'archibald.ffmpeg.expected_duration_s': 15,
  });
  assert.doesNotMatch(JSON.stringify(attributes), /quokka|breathe|dawn/i);
});

test('filter names survive quoted arguments that hold the graph separators', () => {
  assert.deepEqual(filterNames("drawtext=text='a;b,c':x=1,fade=t=in:d=1;[x]null"), [
    'drawtext',
    'fade',
    'null',
  ]);
});
