/**
 * Stills as a moving background: each image drifts in a slow Ken Burns move (zoompan: a gentle zoom
 * in or out while panning across), and each dissolves into the next (xfade), over the video's
 * whole length. Rendered at the frame's size, since a photograph, unlike a gradient, loses detail
 * when scaled up.
 */
import { runFfmpeg } from '../media/ffmpeg.js';
import { seededRandom } from './seeded-random.js';

/** A still for every 20 s or so, at least two (one dissolve), at most six. */
export function stillCount(durationSeconds: number): number {
  return Math.min(6, Math.max(2, Math.ceil(durationSeconds / 20)));
}

export interface SlideshowPlan {
  /** Seconds each still is on screen, its dissolves included. */
  stillSeconds: number;
  fadeSeconds: number;
  totalSeconds: number;
}

/** n stills over `seconds`, each overlapping the next by a dissolve of up to 3 s. */
export function planSlideshow(count: number, seconds: number): SlideshowPlan {
  const even = seconds / count;
  const fade = count > 1 ? Math.min(3, even / 2) : 0;
  // n stills minus (n - 1) overlaps fill the video: stillSeconds = (seconds + (n - 1) fade) / n.
  const stillSeconds = (seconds + (count - 1) * fade) / count;
  return { stillSeconds, fadeSeconds: fade, totalSeconds: seconds };
}

/** How far a still zooms over its time on screen: slow enough to feel still. */
const ZOOM = 0.12;

/** The filter graph: one zoompan per still, chained through xfade, labelled [v]. */
export function slideshowFilter(
  count: number,
  plan: SlideshowPlan,
  size: { width: number; height: number },
  fps: number,
  seed: string,
): string {
  const random = seededRandom('slideshow', seed);
  const frames = Math.round(plan.stillSeconds * fps);
  const { width, height } = size;
  // Scaled up by half first, so that the crop moves in steps finer than an output pixel (zoompan
  // rounds its position to whole source pixels); twice the size is barely smoother and costs more.
  const up = (n: number) => Math.round((n * 1.5) / 2) * 2;
  const moves = Array.from({ length: count }, (_, i) => {
    const zoomIn = (i + random.int(2)) % 2 === 0;
    const leftToRight = random.int(2) === 0;
    const t = `(on/${frames})`;
    const z = zoomIn ? `1+${ZOOM}*${t}` : `${1 + ZOOM}-${ZOOM}*${t}`;
    const x = leftToRight ? `(iw-iw/zoom)*${t}` : `(iw-iw/zoom)*(1-${t})`;
    return (
      `[${i}:v]scale=${up(width)}:${up(height)}:force_original_aspect_ratio=increase,` +
      `crop=${up(width)}:${up(height)},` +
      `zoompan=z='${z}':x='${x}':y='(ih-ih/zoom)/2':d=${frames}:s=${width}x${height}:fps=${fps},` +
      `setsar=1,format=yuv420p[s${i}]`
    );
  });
  if (count === 1) return `${moves[0]};[s0]null[v]`;
  const fades: string[] = [];
  let last = 's0';
  for (let k = 1; k < count; k++) {
    const out = k === count - 1 ? 'v' : `x${k}`;
    const offset = (k * (plan.stillSeconds - plan.fadeSeconds)).toFixed(3);
    fades.push(
      `[${last}][s${k}]xfade=transition=fade:duration=${plan.fadeSeconds.toFixed(3)}:offset=${offset}[${out}]`,
    );
    last = out;
  }
  return [...moves, ...fades].join(';');
}

export async function renderSlideshow(options: {
  stills: string[];
  target: string;
  seconds: number;
  size: { width: number; height: number };
  fps: number;
  seed: string;
  signal: AbortSignal;
  timeoutSeconds: number;
}): Promise<SlideshowPlan> {
  const { stills, fps } = options;
  if (stills.length === 0) throw new Error('a slideshow needs at least one still');
  const plan = planSlideshow(stills.length, options.seconds);
  await runFfmpeg({
    inputs: stills.map((source) => ({ source })),
    filterComplex: slideshowFilter(stills.length, plan, options.size, fps, options.seed),
    outputs: [
      {
        target: options.target,
        options: [
          '-map',
          '[v]',
          '-t',
          String(plan.totalSeconds),
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-crf',
          '18',
          '-g',
          String(fps * 4),
          '-an',
        ],
      },
    ],
    expectedDurationSeconds: plan.totalSeconds,
    signal: options.signal,
    timeoutSeconds: options.timeoutSeconds,
  });
  return plan;
}
