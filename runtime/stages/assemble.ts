/**
 * Assemble: the one encoding pass. The cached background loop is scaled to the frame, the
 * captions (when burned) and the title are drawn on it; the narration clips are laid end to end
 * with their pauses, the cached ambient bed is looped to the video's length and ducked under them,
 * and the mix is loudness-normalised. H.264 + AAC in an MP4 with faststart. Everything before this stage avoided encoding video, so
 * this pass is nearly all of a render's cost.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stage, StageContext, VideoSpec } from '../pipeline/stage.js';
import { StageError } from '../pipeline/stage.js';
import type { FfmpegJob } from '../media/ffmpeg.js';
import { probeMedia, runFfmpeg } from '../media/ffmpeg.js';
import { AUDIO_SAMPLE_RATE, type AmbientOutput } from './ambient.js';
import type { CaptionsOutput } from './captions.js';
import type { NarrationOutput } from './narration.js';
import { asStageError, earlierOutput } from './outputs.js';
import type { VisualsOutput } from './visuals.js';

export interface AssembleOutput {
  /** Relative to the work directory. */
  file: string;
  bytes: number;
  durationSeconds: number;
  width: number;
  height: number;
  videoCodec: string;
  audioCodec: string;
}

export interface EncoderSettings {
  /** x264 preset; ultrafast keeps a 60 s 720p video near 5 s of CPU. */
  preset: string;
  crf: number;
  audioBitrate: string;
  /** Appended to the picture's filter chain (a colour grade, say); empty for none. */
  extraVideoFilters: string;
}

export const DEFAULT_ENCODER: EncoderSettings = {
  preset: 'ultrafast',
  crf: 23,
  audioBitrate: '96k',
  extraVideoFilters: '',
};

export interface AssemblyInputs {
  spec: Pick<VideoSpec, 'durationSeconds' | 'burnCaptions'>;
  narration: NarrationOutput;
  visuals: VisualsOutput;
  captions: CaptionsOutput;
  ambient: AmbientOutput;
  encoder: EncoderSettings;
  /** The output file, relative to the work directory. */
  output: string;
}

const TITLE_FONT = 'DejaVu Sans';

/** The whole final pass as one ffmpeg job, run in the work directory. */
export function assemblyJob(inputs: AssemblyInputs): FfmpegJob {
  const { spec, narration, visuals, captions, ambient, encoder } = inputs;
  const seconds = spec.durationSeconds;
  const clips = narration.clips;
  if (clips.length === 0) throw new Error('the narration has no clips');

  const picture = [
    `[0:v]scale=${visuals.width}:${visuals.height}:flags=bilinear`,
    'setsar=1',
    'fade=t=in:st=0:d=1.5',
    `fade=t=out:st=${Math.max(0, seconds - 2)}:d=2`,
    ...titleFilters(visuals, seconds),
    ...(spec.burnCaptions ? [`ass=${captions.assFile}`] : []),
    ...(encoder.extraVideoFilters ? [encoder.extraVideoFilters] : []),
    'format=yuv420p[v]',
  ].join(',');

  const mono = `aformat=sample_fmts=fltp:sample_rates=${AUDIO_SAMPLE_RATE}:channel_layouts=mono`;
  // Each clip is followed by silence up to the next clip's planned start, so the voice track is
  // built in one sequential pass and every clip starts where the captions say it does.
  const laidOut = clips.map((clip, i) => {
    const next = clips[i + 1];
    const gap = next ? next.startSeconds - (clip.startSeconds + clip.durationSeconds) : 0;
    const pad = gap > 0 ? `,apad=pad_len=${Math.round(gap * AUDIO_SAMPLE_RATE)}` : '';
    return `[${i + 2}:a]${mono}${pad}[c${i}]`;
  });
  const leadMs = Math.round((clips[0]?.startSeconds ?? 0) * 1000);
  const voice =
    `${clips.map((_, i) => `[c${i}]`).join('')}concat=n=${clips.length}:v=0:a=1,` +
    `adelay=delays=${leadMs}:all=1,apad=whole_dur=${seconds},asplit=2[voice][key]`;
  // The bed is a seamless loop (an older stored bed is the video's length): aloop repeats its
  // samples exactly, then it is cut to the video and faded in and out.
  const bedSamples = Math.round((ambient.bedSeconds ?? seconds) * AUDIO_SAMPLE_RATE);
  const bed =
    `[1:a]${mono},aloop=loop=-1:size=${bedSamples},atrim=end=${seconds},` +
    `afade=t=in:d=3,afade=t=out:st=${Math.max(0, seconds - 4)}:d=4[bedin];` +
    `[bedin][key]sidechaincompress=threshold=0.02:ratio=8:attack=40:release=800[ducked]`;
  const mix =
    `[voice][ducked]amix=inputs=2:duration=first:normalize=0,` +
    `loudnorm=I=-16:TP=-1.5:LRA=11,aresample=${AUDIO_SAMPLE_RATE},${mono}[a]`;

  return {
    inputs: [
      { source: visuals.loopFile, options: ['-stream_loop', '-1'] },
      { source: ambient.bedFile },
      ...clips.map((clip) => ({ source: clip.file })),
    ],
    filterComplex: [picture, ...laidOut, voice, bed, mix].join(';'),
    outputs: [
      {
        target: inputs.output,
        options: [
          '-map',
          '[v]',
          '-map',
          '[a]',
          '-t',
          String(seconds),
          '-c:v',
          'libx264',
          '-preset',
          encoder.preset,
          '-crf',
          String(encoder.crf),
          '-g',
          String(visuals.fps * 4),
          '-c:a',
          'aac',
          '-aac_coder',
          'fast',
          '-b:a',
          encoder.audioBitrate,
          '-movflags',
          '+faststart',
        ],
      },
    ],
    expectedDurationSeconds: seconds,
  };
}

/** The title, one drawtext per line so each line is centred, fading in and out over the opening. */
function titleFilters(visuals: VisualsOutput, seconds: number): string[] {
  const { files, fontSize } = visuals.title;
  const end = Math.min(7, Math.max(4, seconds * 0.3));
  const lineHeight = Math.round(fontSize * 1.3);
  const top = `(h-${files.length * lineHeight})/2`;
  const alpha = `if(lt(t,1.5),max(0,t-0.5),if(lt(t,${end - 1.5}),1,max(0,(${end}-t)/1.5)))`;
  return files.map(
    (file, i) =>
      `drawtext=textfile=${file}:expansion=none:font='${TITLE_FONT}':fontsize=${fontSize}:fontcolor=white` +
      `:shadowcolor=black@0.35:shadowx=2:shadowy=2:x=(w-text_w)/2:y=${top}+${i * lineHeight}` +
      `:alpha='${alpha}':enable='lt(t,${end})'`,
  );
}

export function createAssembleStage(options: {
  ffmpegTimeoutSeconds: number;
  encoder?: Partial<EncoderSettings>;
}): Stage<AssembleOutput> {
  const encoder = { ...DEFAULT_ENCODER, ...options.encoder };
  return {
    name: 'assemble',
    async run(ctx: StageContext): Promise<AssembleOutput> {
      const inputs: AssemblyInputs = {
        spec: ctx.spec,
        narration: earlierOutput<NarrationOutput>(ctx, 'narration', 'assemble'),
        visuals: earlierOutput<VisualsOutput>(ctx, 'visuals', 'assemble'),
        captions: earlierOutput<CaptionsOutput>(ctx, 'captions', 'assemble'),
        ambient: earlierOutput<AmbientOutput>(ctx, 'ambient', 'assemble'),
        encoder,
        output: 'video.mp4',
      };
      try {
        await runFfmpeg({
          ...assemblyJob(inputs),
          cwd: ctx.workDir,
          signal: ctx.signal,
          timeoutSeconds: options.ffmpegTimeoutSeconds,
          onProgress: (f) => ctx.progress(f * 0.98),
        });
        const path = join(ctx.workDir, inputs.output);
        const info = await probeMedia(path);
        const video = info.streams.find((s) => s.type === 'video');
        const audio = info.streams.find((s) => s.type === 'audio');
        if (!video?.width || !video.height || !audio) {
          throw new StageError(
            'assemble',
            `ffmpeg wrote ${inputs.output} without a video and an audio stream`,
          );
        }
        ctx.progress(1);
        return {
          file: inputs.output,
          bytes: (await stat(path)).size,
          durationSeconds: info.durationSeconds,
          width: video.width,
          height: video.height,
          videoCodec: video.codec,
          audioCodec: audio.codec,
        };
      } catch (error) {
        throw asStageError('assemble', error);
      }
    },
    async isReusable(output: AssembleOutput, ctx: StageContext): Promise<boolean> {
      const found = await stat(join(ctx.workDir, output.file)).catch(() => undefined);
      return found?.size === output.bytes;
    },
  };
}
