/**
 * A rendered file's loudness, read from ffmpeg's own EBU R128 filter. Used to check renders (tests,
 * the demo's summary), not to make them.
 */
import { runFfmpeg } from './ffmpeg.js';

export interface Loudness {
  /** Integrated loudness in LUFS. */
  integratedLufs: number;
  /** Loudness range in LU. */
  rangeLu: number;
  /** Sample peak in dBFS. */
  peakDbfs: number;
}

export async function measureLoudness(file: string, signal?: AbortSignal): Promise<Loudness> {
  const { log } = await runFfmpeg({
    inputs: [{ source: file }],
    filterComplex: '[0:a:0]ebur128=peak=sample[out]',
    outputs: [{ target: '/dev/null', options: ['-map', '[out]', '-f', 'null'] }],
    logLevel: 'info',
    ...(signal ? { signal } : {}),
  });
  // When ffmpeg reconfigures the graph on the first frame, the discarded instance prints an
  // empty summary first: the last one is the real one.
  const summary = log.slice(log.findLastIndex((line) => line.includes('Summary:')));
  const value = (label: RegExp): number => {
    for (const line of summary) {
      const match = label.exec(line);
      if (match?.[1]) return Number(match[1]);
    }
    throw new Error(`ebur128 printed no ${label.source} for ${file}`);
  };
  return {
    integratedLufs: value(/^\s*I:\s+(-?[\d.]+|-inf) LUFS/),
    rangeLu: value(/^\s*LRA:\s+(-?[\d.]+) LU/),
    peakDbfs: value(/^\s*Peak:\s+(-?[\d.]+|-inf) dBFS/),
  };
}
