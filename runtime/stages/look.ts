/**
 * The look of a video: palette and gradient motion for the background, and the ambient bed's
 * sound, chosen from the style and the seed. A small set of looks per style keeps the asset cache
 * small and its hit rate high.
 */
import type { Style, VideoSpec } from '../pipeline/stage.js';
import { seededRandom } from './seeded-random.js';

export interface BackgroundLook {
  palette: readonly [string, string, string, string];
  /** Seconds per turn of the gradient line: a slower turn for a stiller picture. */
  turnSeconds: 40 | 80;
}

export type BedKind = 'brown-noise' | 'brown-noise-drone' | 'pink-noise' | 'soft-tones';

export interface AmbientLook {
  kind: BedKind;
  /** Base frequency of the tones, in Hz (used by the kinds with tones). */
  toneHz: number;
}

const PALETTES: Record<Style, ReadonlyArray<readonly [string, string, string, string]>> = {
  calm: [
    ['0x1d3557', '0x457b9d', '0xa8dadc', '0x6d9dc5'],
    ['0x264653', '0x2a9d8f', '0x8ab17d', '0x3f7d7a'],
    ['0x3d405b', '0x81b29a', '0xf2cc8f', '0x6c8ea4'],
    ['0x22333b', '0x5e6472', '0xaed9e0', '0x7f9ca8'],
  ],
  sleep: [
    ['0x0b132b', '0x1c2541', '0x3a506b', '0x283a5b'],
    ['0x10002b', '0x240046', '0x3c096c', '0x1f1147'],
    ['0x0d1b2a', '0x1b263b', '0x415a77', '0x2b3a52'],
    ['0x14213d', '0x1f2a44', '0x3e4a61', '0x2a3450'],
  ],
  focus: [
    ['0x003049', '0x0a6e7d', '0x4cb5ae', '0x1f7a8c'],
    ['0x2b2d42', '0x5c677d', '0x8d99ae', '0x4a5568'],
    ['0x1b4332', '0x2d6a4f', '0x52b788', '0x40916c'],
    ['0x212529', '0x343a40', '0x6c757d', '0x495057'],
  ],
  gratitude: [
    ['0x6d597a', '0xb56576', '0xeaac8b', '0x915f78'],
    ['0x7f5539', '0xb08968', '0xe6ccb2', '0x9c6644'],
    ['0x5f0f40', '0x9a031e', '0xfb8b24', '0x8f2d56'],
    ['0x735d78', '0xb392ac', '0xf7d1cd', '0x9b7e9b'],
  ],
};

const BEDS: Record<Style, readonly BedKind[]> = {
  calm: ['brown-noise', 'soft-tones'],
  sleep: ['brown-noise-drone', 'brown-noise'],
  focus: ['pink-noise', 'brown-noise'],
  gratitude: ['soft-tones', 'brown-noise'],
};

export function backgroundLook(spec: Pick<VideoSpec, 'style' | 'seed'>): BackgroundLook {
  const random = seededRandom('look', spec.style, spec.seed);
  return { palette: random.pick(PALETTES[spec.style]), turnSeconds: random.int(2) === 0 ? 40 : 80 };
}

export function ambientLook(spec: Pick<VideoSpec, 'style' | 'seed'>): AmbientLook {
  const random = seededRandom('ambient', spec.style, spec.seed);
  return { kind: random.pick(BEDS[spec.style]), toneHz: random.pick([110, 130.81, 146.83, 164.81]) };
}
