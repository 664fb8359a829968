/**
 * The ambient bed: soft noise or tones under the voice, for the whole video with fades at both
 * ends. Beds are rendered once per sound and length into the asset cache; the assemble stage
 * ducks the bed under the narration and normalises the mix.
 */
import type { Stage, StageContext } from '../pipeline/stage.js';
import { runFfmpeg } from '../media/ffmpeg.js';
import type { AssetCache } from './asset-cache.js';
import { filesExist } from './files.js';
import { ambientLook, type AmbientLook } from './look.js';
import { asStageError } from './outputs.js';

export const AUDIO_SAMPLE_RATE = 48000;

export interface AmbientOutput {
  /** Absolute path of the cached bed (mono WAV, the video's length). */
  bedFile: string;
  cacheHit: boolean;
  look: AmbientLook;
}

/** The bed's filter graph from its noise input `[0:a]`; quiet on purpose: the voice leads. */
export function bedGraph(look: AmbientLook, seconds: number): string {
  const fadeOut = Math.max(0, seconds - 4);
  const tail = `afade=t=in:d=3,afade=t=out:st=${fadeOut}:d=4,aformat=sample_fmts=s16:channel_layouts=mono[bed]`;
  const tones = (gain: number) =>
    [1, 1.5, 2]
      .map(
        (ratio, i) =>
          `sine=f=${(look.toneHz * ratio).toFixed(2)}:r=${AUDIO_SAMPLE_RATE}:d=${seconds},volume=${gain / (i + 1)},tremolo=f=${0.1 + i * 0.05}:d=0.6[t${i}]`,
      )
      .join(';');
  switch (look.kind) {
    case 'brown-noise':
      return `[0:a]lowpass=f=420,volume=0.55,${tail}`;
    case 'pink-noise':
      return `[0:a]lowpass=f=1400,highpass=f=120,volume=0.22,${tail}`;
    case 'brown-noise-drone':
      return `${tones(0.05)};[0:a]lowpass=f=300,volume=0.45[n];[n][t0][t1][t2]amix=inputs=4:normalize=0,${tail}`;
    case 'soft-tones':
      return `${tones(0.08)};[0:a]lowpass=f=350,volume=0.25[n];[n][t0][t1][t2]amix=inputs=4:normalize=0,${tail}`;
  }
}

export async function renderBed(
  target: string,
  look: AmbientLook,
  seconds: number,
  options: { signal: AbortSignal; timeoutSeconds: number },
): Promise<void> {
  const colour = look.kind === 'pink-noise' ? 'pink' : 'brown';
  await runFfmpeg({
    inputs: [
      {
        source: `anoisesrc=color=${colour}:r=${AUDIO_SAMPLE_RATE}:a=0.5:seed=7:d=${seconds}`,
        options: ['-f', 'lavfi'],
      },
    ],
    filterComplex: bedGraph(look, seconds),
    outputs: [{ target, options: ['-map', '[bed]', '-c:a', 'pcm_s16le'] }],
    signal: options.signal,
    timeoutSeconds: options.timeoutSeconds,
  });
}

export function createAmbientStage(
  cache: AssetCache,
  options: { ffmpegTimeoutSeconds: number },
): Stage<AmbientOutput> {
  return {
    name: 'ambient',
    async run(ctx: StageContext): Promise<AmbientOutput> {
      try {
        const look = ambientLook(ctx.spec);
        const seconds = ctx.spec.durationSeconds;
        const bed = await cache.getOrCreate('bed', { version: 1, look, seconds }, 'wav', (target) =>
          renderBed(target, look, seconds, {
            signal: ctx.signal,
            timeoutSeconds: options.ffmpegTimeoutSeconds,
          }),
        );
        ctx.progress(1);
        return { bedFile: bed.path, cacheHit: bed.hit, look };
      } catch (error) {
        throw asStageError('ambient', error);
      }
    },
    isReusable: (output: AmbientOutput, ctx: StageContext) => filesExist(ctx.workDir, [output.bedFile]),
  };
}
