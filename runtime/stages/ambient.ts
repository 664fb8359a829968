/**
 * The ambient bed: soft noise or tones under the voice. One bed per look is rendered into the
 * asset cache as a seamless loop, and the assemble stage loops it to the video's length (with the
 * fades at both ends), ducks it under the narration and normalises the mix: one file serves every
 * duration.
 */
import type { Stage, StageContext } from '../pipeline/stage.js';
import { runFfmpeg } from '../media/ffmpeg.js';
import type { AssetCache } from './asset-cache.js';
import { filesExist } from './files.js';
import { ambientLook, type AmbientLook } from './look.js';
import { asStageError } from './outputs.js';

export const AUDIO_SAMPLE_RATE = 48000;
/**
 * The loop's length. Every periodic part of a bed completes whole cycles in it: the tremolos
 * (0.1, 0.15, 0.2 Hz: 4, 6 and 8 cycles) and the tones, whose frequencies are rounded to a
 * multiple of 1/40 Hz (inaudible). The noise is made seamless by a crossfade (LOOP_CROSSFADE).
 */
export const BED_LOOP_SECONDS = 40;
/** The noise's head is an equal-power crossfade from what follows its end, so the seam is smooth. */
const LOOP_CROSSFADE_SECONDS = 4;

export interface AmbientOutput {
  /** Absolute path of the cached bed (mono WAV, a seamless loop of `bedSeconds`). */
  bedFile: string;
  /** The loop's length; absent in outputs stored before beds looped (then the video's length). */
  bedSeconds?: number;
  cacheHit: boolean;
  look: AmbientLook;
}

/** What decides a bed's sound: noise beds have no tones, so their tone does not split the cache. */
export function bedKey(look: AmbientLook): { kind: AmbientLook['kind']; toneHz?: number } {
  return look.kind === 'brown-noise' || look.kind === 'pink-noise'
    ? { kind: look.kind }
    : { kind: look.kind, toneHz: look.toneHz };
}

/** A frequency with a whole number of cycles in the loop. */
function loopable(hz: number): string {
  return (Math.round(hz * BED_LOOP_SECONDS) / BED_LOOP_SECONDS).toFixed(3);
}

/**
 * The bed's filter graph from its noise input `[0:a]` (LOOP + CROSSFADE seconds long); quiet on
 * purpose: the voice leads. The noise's last CROSSFADE seconds fade out over its first ones, which
 * fade in: the loop's end runs on into its start as the noise itself did.
 */
export function bedGraph(look: AmbientLook): string {
  const L = BED_LOOP_SECONDS;
  const F = LOOP_CROSSFADE_SECONDS;
  const seamless = (filters: string, out: string) =>
    `[0:a]${filters},asplit=2[na][nb];` +
    `[na]atrim=end=${L},afade=t=in:d=${F}:curve=qsin[head];` +
    `[nb]atrim=start=${L},asetpts=PTS-STARTPTS,afade=t=out:d=${F}:curve=qsin[tail];` +
    `[head][tail]amix=inputs=2:duration=first:normalize=0[${out}]`;
  const tail = `aformat=sample_fmts=s16:channel_layouts=mono[bed]`;
  const tones = (gain: number) =>
    [1, 1.5, 2]
      .map(
        (ratio, i) =>
          `sine=f=${loopable(look.toneHz * ratio)}:r=${AUDIO_SAMPLE_RATE}:d=${L},volume=${gain / (i + 1)},tremolo=f=${(0.1 + i * 0.05).toFixed(2)}:d=0.6[t${i}]`,
      )
      .join(';');
  switch (look.kind) {
    case 'brown-noise':
      return `${seamless('lowpass=f=420,volume=0.55', 'n')};[n]${tail}`;
    case 'pink-noise':
      return `${seamless('lowpass=f=1400,highpass=f=120,volume=0.22', 'n')};[n]${tail}`;
    case 'brown-noise-drone':
      return `${tones(0.05)};${seamless('lowpass=f=300,volume=0.45', 'n')};[n][t0][t1][t2]amix=inputs=4:normalize=0,${tail}`;
    case 'soft-tones':
      return `${tones(0.08)};${seamless('lowpass=f=350,volume=0.25', 'n')};[n][t0][t1][t2]amix=inputs=4:normalize=0,${tail}`;
  }
}

/** Renders the look's bed: a seamless loop of BED_LOOP_SECONDS. */
export async function renderBed(
  target: string,
  look: AmbientLook,
  options: { signal: AbortSignal; timeoutSeconds: number },
): Promise<void> {
  const colour = look.kind === 'pink-noise' ? 'pink' : 'brown';
  await runFfmpeg({
    inputs: [
      {
        source: `anoisesrc=color=${colour}:r=${AUDIO_SAMPLE_RATE}:a=0.5:seed=7:d=${BED_LOOP_SECONDS + LOOP_CROSSFADE_SECONDS}`,
        options: ['-f', 'lavfi'],
      },
    ],
    filterComplex: bedGraph(look),
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
        const bed = await cache.getOrCreate(
          'bed',
          { version: 2, ...bedKey(look), seconds: BED_LOOP_SECONDS },
          'wav',
          (target, signal) =>
            renderBed(target, look, { signal, timeoutSeconds: options.ffmpegTimeoutSeconds }),
          { signal: ctx.signal, holder: ctx.workDir },
        );
        ctx.progress(1);
        return { bedFile: bed.path, bedSeconds: BED_LOOP_SECONDS, cacheHit: bed.hit, look };
      } catch (error) {
        throw asStageError('ambient', error);
      }
    },
    isReusable: (output: AmbientOutput, ctx: StageContext) => filesExist(ctx.workDir, [output.bedFile]),
  };
}
