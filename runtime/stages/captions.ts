/**
 * Captions from the narration's real timeline: one cue per narrated line, from the moment its
 * clip starts to a little after it ends. Written as WebVTT (published beside the video) and as
 * an ASS file, styled for the frame size, that the assemble stage burns in when asked.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stage, StageContext } from '../pipeline/stage.js';
import { asStageError, earlierOutput } from './outputs.js';
import type { NarrationOutput } from './narration.js';
import { frameSize } from './frame.js';
import { filesExist } from './files.js';

export interface CaptionCue {
  startSeconds: number;
  endSeconds: number;
  text: string;
}

export interface CaptionsOutput {
  /** Relative to the work directory. */
  vttFile: string;
  assFile: string;
  cues: CaptionCue[];
}

/** How long a cue stays up after its line ends, unless the next line starts sooner. */
const HOLD_SECONDS = 0.6;

export function cuesFromNarration(narration: NarrationOutput, videoSeconds: number): CaptionCue[] {
  return narration.clips.map((clip, i) => {
    const spokenEnd = clip.startSeconds + clip.durationSeconds;
    const next = narration.clips[i + 1]?.startSeconds ?? videoSeconds;
    const end = Math.min(spokenEnd + HOLD_SECONDS, next - 0.05, videoSeconds - 0.05);
    const ms = (seconds: number) => Math.round(seconds * 1000) / 1000;
    return { startSeconds: ms(clip.startSeconds), endSeconds: ms(Math.max(end, spokenEnd)), text: clip.text };
  });
}

export function toWebVtt(cues: CaptionCue[]): string {
  const blocks = cues.map(
    (cue, i) =>
      `${i + 1}\n${vttTime(cue.startSeconds)} --> ${vttTime(cue.endSeconds)}\n${escapeVtt(cue.text)}`,
  );
  return `WEBVTT\n\n${blocks.join('\n\n')}\n`;
}

export function toAss(cues: CaptionCue[], width: number, height: number): string {
  const fontSize = Math.round(Math.min(width, height) * 0.05);
  const margin = Math.round(height * 0.07);
  const side = Math.round(width * 0.08);
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${width}`,
    `PlayResY: ${height}`,
    'WrapStyle: 0',
    'ScaledBorderAndShadow: yes',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    `Style: Default,DejaVu Sans,${fontSize},&H00FFFFFF,&H00FFFFFF,&H50101010,&H64000000,0,0,0,0,100,100,0,0,1,${Math.max(1, Math.round(fontSize / 14))},${Math.max(1, Math.round(fontSize / 18))},2,${side},${side},${margin},1`,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...cues.map(
      (cue) =>
        `Dialogue: 0,${assTime(cue.startSeconds)},${assTime(cue.endSeconds)},Default,,0,0,0,,{\\fad(200,250)}${escapeAss(cue.text)}`,
    ),
    '',
  ].join('\n');
}

function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms % 1000, 3)}`;
}

function assTime(seconds: number): string {
  const cs = Math.round(seconds * 100);
  const h = Math.floor(cs / 360_000);
  const m = Math.floor((cs % 360_000) / 6000);
  const s = Math.floor((cs % 6000) / 100);
  return `${h}:${pad(m, 2)}:${pad(s, 2)}.${pad(cs % 100, 2)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function escapeVtt(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\s*\n\s*/g, ' ');
}

/** Braces open ASS override blocks and a backslash starts an escape: neither may reach libass. */
function escapeAss(text: string): string {
  return text
    .replace(/[{}]/g, '')
    .replace(/\\/g, '/')
    .replace(/\s*\n\s*/g, ' ');
}

export function createCaptionsStage(): Stage<CaptionsOutput> {
  return {
    name: 'captions',
    async run(ctx: StageContext): Promise<CaptionsOutput> {
      const narration = earlierOutput<NarrationOutput>(ctx, 'narration', 'captions');
      try {
        const cues = cuesFromNarration(narration, ctx.spec.durationSeconds);
        const { width, height } = frameSize(ctx.spec);
        const output: CaptionsOutput = { vttFile: 'captions.vtt', assFile: 'captions.ass', cues };
        await writeFile(join(ctx.workDir, output.vttFile), toWebVtt(cues));
        await writeFile(join(ctx.workDir, output.assFile), toAss(cues, width, height));
        ctx.progress(1);
        return output;
      } catch (error) {
        throw asStageError('captions', error);
      }
    },
    isReusable: (output: CaptionsOutput, ctx: StageContext) =>
      filesExist(ctx.workDir, [output.vttFile, output.assFile]),
  };
}
