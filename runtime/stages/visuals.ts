/**
 * Visuals: a slowly turning, gently breathing colour gradient behind the title. The background is
 * a seamless loop rendered once per look into the asset cache, at a quarter of the frame size (a
 * smooth gradient loses nothing) and a low frame rate; the assemble stage loops and scales it.
 *
 * With a still source (FAL, see fal-stills.ts) the background is instead a few generated stills
 * with slow pans and dissolves (slideshow.ts), as long as the video. Any failure of the source,
 * an open circuit or the video's budget falls back to the gradient; a cancelled job stops.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stage, StageContext } from '../pipeline/stage.js';
import { runFfmpeg } from '../media/ffmpeg.js';
import type { ProviderEvents } from '../providers/provider-events.js';
import type { AssetCache } from './asset-cache.js';
import { stillSize, type StillSource } from './fal-stills.js';
import { renderSlideshow, stillCount } from './slideshow.js';
import { filesExist } from './files.js';
import { frameSize } from './frame.js';
import { backgroundLook, type BackgroundLook } from './look.js';
import { asStageError, earlierOutput } from './outputs.js';
import type { ScriptOutput } from './script/stage.js';

/** Slow gradients look the same at 15 frames a second, and cost 40% less to encode than at 25. */
export const VIDEO_FPS = 15;
/** The brightness breathes with this period; the loop length is a multiple of it and of the turn. */
const BREATH_PERIOD_SECONDS = 8;

/** Who made the background when no provider did. */
export const GRADIENTS = 'gradients';

export interface VisualsOutput {
  /** Absolute path of the background (the cached loop, or the job's slideshow). */
  loopFile: string;
  /** `gradients`, or `<provider>:<model>` of the stills (absent in outputs stored before it). */
  source?: string;
  loopSeconds: number;
  cacheHit: boolean;
  width: number;
  height: number;
  fps: number;
  look: BackgroundLook;
  title: { lines: string[]; files: string[]; fontSize: number };
}

export function loopSize(width: number, height: number): { width: number; height: number } {
  const even = (n: number) => Math.max(16, Math.round(n / 8) * 2);
  return { width: even(width), height: even(height) };
}

export async function renderBackgroundLoop(
  target: string,
  look: BackgroundLook,
  size: { width: number; height: number },
  options: { signal: AbortSignal; timeoutSeconds: number },
): Promise<void> {
  const frames = look.turnSeconds * VIDEO_FPS;
  // gradients turns its line by `speed` radians a frame: one full turn per loop makes it seamless.
  const speed = (2 * Math.PI) / frames;
  const colours = look.palette.map((c, i) => `c${i}=${c}`).join(':');
  await runFfmpeg({
    inputs: [
      {
        source: `gradients=s=${size.width}x${size.height}:r=${VIDEO_FPS}:${colours}:n=4:speed=${speed}:d=${look.turnSeconds}`,
        options: ['-f', 'lavfi'],
      },
    ],
    outputs: [
      {
        target,
        options: [
          '-vf',
          `eq=brightness='0.035*sin(2*PI*t/${BREATH_PERIOD_SECONDS})':eval=frame,vignette=angle=PI/5,format=yuv420p`,
          '-c:v',
          'libx264',
          '-preset',
          'veryfast',
          '-crf',
          '12',
          '-g',
          String(frames),
          '-an',
        ],
      },
    ],
    signal: options.signal,
    timeoutSeconds: options.timeoutSeconds,
  });
}

/** The title broken into at most three lines that fit the frame, at a size that suits it. */
export function layoutTitle(
  title: string,
  width: number,
  height: number,
): { lines: string[]; fontSize: number } {
  const fontSize = Math.round(Math.min(width, height) * 0.085);
  // DejaVu Sans averages about 0.55 em per character; keep a tenth of the width free each side.
  const perLine = Math.max(8, Math.floor((width * 0.8) / (fontSize * 0.55)));
  const words = title.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  for (const word of words) {
    const current = lines.at(-1);
    if (current !== undefined && `${current} ${word}`.length <= perLine)
      lines[lines.length - 1] = `${current} ${word}`;
    else lines.push(word.length > perLine ? `${word.slice(0, perLine - 1)}…` : word);
  }
  if (lines.length > 3) {
    lines.length = 3;
    lines[2] = `${(lines[2] as string).slice(0, perLine - 1)}…`;
  }
  return { lines, fontSize };
}

/** The stills as the video's background, or undefined when the source could not make them. */
async function stillsBackground(
  ctx: StageContext,
  source: StillSource,
  frame: { width: number; height: number },
  timeoutSeconds: number,
): Promise<{ file: string; seconds: number; by: string; allCached: boolean } | undefined> {
  try {
    const count = stillCount(ctx.spec.durationSeconds);
    const stills = await source.stills({
      spec: ctx.spec,
      count,
      size: stillSize(frame),
      signal: ctx.signal,
      holder: ctx.workDir,
      timeoutSeconds,
      addCost: (provider, usd) => ctx.addCost(provider, usd),
      spentUsd: () => ctx.spentUsd(),
      log: ctx.log,
    });
    ctx.progress(0.5);
    await mkdir(join(ctx.workDir, 'visuals'), { recursive: true });
    const file = join(ctx.workDir, 'visuals', 'stills.mp4');
    // A second beyond the video, so the assembly's loop never shows the first still again.
    const seconds = ctx.spec.durationSeconds + 1;
    await renderSlideshow({
      stills: stills.files,
      target: file,
      seconds,
      size: frame,
      fps: VIDEO_FPS,
      seed: ctx.spec.seed,
      signal: ctx.signal,
      timeoutSeconds,
    });
    return { file, seconds, by: stills.by, allCached: stills.cached === stills.files.length };
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
    ctx.log.warn({ err: error, source: source.name }, 'stills unavailable; using the gradient background');
    return undefined;
  }
}

export function createVisualsStage(
  cache: AssetCache,
  options: { ffmpegTimeoutSeconds: number; stills?: StillSource; events?: ProviderEvents },
): Stage<VisualsOutput> {
  return {
    name: 'visuals',
    async run(ctx: StageContext): Promise<VisualsOutput> {
      const script = earlierOutput<ScriptOutput>(ctx, 'script', 'visuals');
      const { width, height } = frameSize(ctx.spec);
      const look = backgroundLook(ctx.spec);
      const { lines, fontSize } = layoutTitle(script.title, width, height);
      const files = lines.map((_, i) => `title-${i + 1}.txt`);
      const title = { lines, files, fontSize };
      try {
        const stills = options.stills
          ? await stillsBackground(ctx, options.stills, { width, height }, options.ffmpegTimeoutSeconds)
          : undefined;
        await Promise.all(lines.map((line, i) => writeFile(join(ctx.workDir, files[i] as string), line)));
        if (stills) {
          options.events?.served('visuals', stills.by);
          ctx.progress(1);
          return {
            loopFile: stills.file,
            source: stills.by,
            loopSeconds: stills.seconds,
            // Every still came from the asset cache (the slideshow itself is rendered per job).
            cacheHit: stills.allCached,
            width,
            height,
            fps: VIDEO_FPS,
            look,
            title,
          };
        }
        const size = loopSize(width, height);
        const key = { version: 1, look, size, fps: VIDEO_FPS, breath: BREATH_PERIOD_SECONDS };
        const loop = await cache.getOrCreate(
          'background',
          key,
          'mp4',
          (target, signal) =>
            renderBackgroundLoop(target, look, size, {
              signal,
              timeoutSeconds: options.ffmpegTimeoutSeconds,
            }),
          { signal: ctx.signal, holder: ctx.workDir },
        );
        options.events?.served('visuals', GRADIENTS);
        ctx.progress(1);
        return {
          loopFile: loop.path,
          source: GRADIENTS,
          loopSeconds: look.turnSeconds,
          cacheHit: loop.hit,
          width,
          height,
          fps: VIDEO_FPS,
          look,
          title,
        };
      } catch (error) {
        throw asStageError('visuals', error);
      }
    },
    isReusable: (output: VisualsOutput, ctx: StageContext) =>
      filesExist(ctx.workDir, [output.loopFile, ...output.title.files]),
  };
}
