/** A file's sound as samples, and its loudness over short windows, for timing checks in tests. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../runtime/media/ffmpeg.js';

export const ENVELOPE_RATE = 48000;

export async function decodeMono(file: string): Promise<Float32Array> {
  const dir = await mkdtemp(join(tmpdir(), 'archibald-test-pcm-'));
  try {
    const raw = join(dir, 'audio.f32');
    await runFfmpeg({
      inputs: [{ source: file }],
      outputs: [
        { target: raw, options: ['-map', '0:a:0', '-ac', '1', '-ar', String(ENVELOPE_RATE), '-f', 'f32le'] },
      ],
    });
    const bytes = await readFile(raw);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** RMS level in dBFS over consecutive windows of `windowSeconds`. */
export function envelopeDb(samples: Float32Array, windowSeconds = 0.01): number[] {
  const size = Math.round(ENVELOPE_RATE * windowSeconds);
  const levels: number[] = [];
  for (let start = 0; start + size <= samples.length; start += size) {
    let sum = 0;
    for (let i = start; i < start + size; i++) sum += (samples[i] as number) ** 2;
    levels.push(10 * Math.log10(sum / size + 1e-12));
  }
  return levels;
}
