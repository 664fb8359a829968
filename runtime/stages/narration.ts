/**
 * Narration: one clip per script line, spoken by ffmpeg's flite voices (or ElevenLabs, see
 * elevenlabs-narrator.ts, with flite as its fallback), so that every line's real start and length
 * are known. Clip lengths are read from the rendered files; the pauses between lines are then
 * stretched so that the narration fills the video, ending a few seconds before it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Stage, StageContext, Voice } from '../pipeline/stage.js';
import type { ProviderEvents } from '../providers/provider-events.js';
import { runFfmpeg } from '../media/ffmpeg.js';
import type { AssetCache } from './asset-cache.js';
import { readWavInfo } from '../media/wav.js';
import { asStageError, earlierOutput } from './outputs.js';
import type { SectionKind } from './script/document.js';
import type { ScriptOutput } from './script/stage.js';
import { MIN_GAP_SECONDS, narrationMargins, TIGHT_MARGINS } from './timing.js';

export interface NarrationClip {
  /** Relative to the job's work directory. */
  file: string;
  text: string;
  section: SectionKind;
  startSeconds: number;
  durationSeconds: number;
}

export interface NarrationOutput {
  voice: Voice;
  /** Who spoke the lines: `flite`, or `<provider>:<model>` (absent in outputs stored before it). */
  narrator?: string;
  clips: NarrationClip[];
  /** Total speech, without the pauses. */
  speechSeconds: number;
  /** When the last clip ends. */
  endSeconds: number;
}

/** What a paid narrator needs of the video: its spend so far, where to record its own, a log. */
export interface NarrationAccount {
  addCost(provider: string, usd: number): void;
  spentUsd(): number;
  log?: Logger;
}

/** Speaks lines into PCM WAV files. */
export interface Narrator {
  readonly name: string;
  /** What else decides the audio besides the line and the voice (a provider's model and voice). */
  readonly variant?: string;
  /** Writes `files[i]` (relative to `dir`) speaking `lines[i]`; resolves to who spoke them. */
  synthesize(request: {
    lines: string[];
    files: string[];
    voice: Voice;
    dir: string;
    signal: AbortSignal;
    timeoutSeconds: number;
    progress(fraction: number): void;
    account?: NarrationAccount;
    /**
     * Called by a narrator that speaks line by line once `files[index]` is whole: a paid line is
     * then cached even if a later line fails, so a retried job does not pay for it again.
     */
    lineReady?(index: number): Promise<void>;
  }): Promise<{ by: string }>;
}

export type SynthesisRequest = Parameters<Narrator['synthesize']>[0];

/** ffmpeg's flite filter; the lines are split over a few ffmpeg processes that run side by side. */
export class FliteNarrator implements Narrator {
  readonly name = 'flite';
  constructor(private readonly parallelism = 2) {}

  async synthesize(request: SynthesisRequest): Promise<{ by: string }> {
    const { lines, files, voice, dir } = request;
    await Promise.all(lines.map((line, i) => writeFile(join(dir, `${files[i]}.txt`), `${line}\n`)));
    const groups = splitEvenly(
      lines.map((line, i) => ({ index: i, weight: line.length })),
      this.parallelism,
    );
    const done = new Array<number>(groups.length).fill(0);
    // One failed group stops the others at once rather than letting them finish for nothing.
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all(
        groups.map((group, g) =>
          runFfmpeg({
            cwd: dir,
            inputs: group.map(({ index }) => ({
              source: `flite=textfile=${files[index]}.txt:voice=${voice}`,
              options: ['-f', 'lavfi'],
            })),
            outputs: group.map(({ index }, i) => ({
              target: files[index] as string,
              options: ['-map', `${i}:a`, '-c:a', 'pcm_s16le'],
            })),
            signal: controller.signal,
            timeoutSeconds: request.timeoutSeconds,
          }).then(
            () => {
              done[g] = group.length;
              request.progress(done.reduce((a, b) => a + b, 0) / lines.length);
            },
            (error: unknown) => {
              controller.abort(error);
              throw error;
            },
          ),
        ),
      );
    } finally {
      request.signal.removeEventListener('abort', onAbort);
    }
    return { by: this.name };
  }
}

/**
 * Lines already spoken by the same voice are taken from the asset cache instead of being spoken
 * again: the template writer's lines recur from video to video ("Breathe in slowly…"), and the
 * voice is deterministic, so a cached clip is the same audio the voice would make now.
 *
 * The key is what decides the audio: a narrator with a `variant` (a provider's model and its own
 * voice) ignores the request's flite voice, so that voice is left out of its key; otherwise the same
 * paid line would be bought again for each flite voice.
 */
export class CachedNarrator implements Narrator {
  readonly name: string;
  constructor(
    private readonly inner: Narrator,
    private readonly cache: AssetCache,
  ) {
    this.name = `${inner.name}+cache`;
  }

  async synthesize(request: SynthesisRequest): Promise<{ by: string }> {
    const variant = this.inner.variant;
    const key = (line: string) => ({
      version: 1,
      narrator: this.inner.name,
      ...(variant ? { variant } : { voice: request.voice }),
      line,
    });
    // A line found is copied into the job at once: the cache may evict it afterwards.
    const cached = await Promise.all(
      request.lines.map((line, i) =>
        this.cache.copyOut('line', key(line), 'wav', join(request.dir, request.files[i] as string)),
      ),
    );
    const missing = request.lines.map((_, i) => i).filter((i) => !cached[i]);
    let by = this.inner.name;
    if (missing.length > 0) {
      const adopted = new Set<number>();
      const adopt = async (i: number) => {
        if (adopted.has(i)) return;
        adopted.add(i);
        await this.cache.adopt(
          'line',
          key(request.lines[i] as string),
          'wav',
          join(request.dir, request.files[i] as string),
        );
      };
      ({ by } = await this.inner.synthesize({
        ...request,
        lines: missing.map((i) => request.lines[i] as string),
        files: missing.map((i) => request.files[i] as string),
        progress: (f) => request.progress((f * missing.length) / request.lines.length),
        lineReady: (j) => adopt(missing[j] as number),
      }));
      // A narrator that speaks all lines at once (flite) reports none of them ready one by one.
      await Promise.all(missing.map(adopt));
    }
    request.progress(1);
    return { by };
  }
}

/**
 * A paid narrator with an offline one behind it: any failure of the paid one (after its retries),
 * an open circuit or the video's budget hands the whole narration to the fallback, so one video
 * has one voice and never fails because a provider did. A cancelled job is not spoken offline.
 */
export class FallbackNarrator implements Narrator {
  readonly name: string;
  constructor(
    private readonly primary: Narrator,
    private readonly fallback: Narrator,
  ) {
    this.name = `${primary.name}|${fallback.name}`;
  }

  async synthesize(request: SynthesisRequest): Promise<{ by: string }> {
    try {
      return await this.primary.synthesize(request);
    } catch (error) {
      if (request.signal.aborted) throw request.signal.reason ?? error;
      request.account?.log?.warn(
        { err: error, narrator: this.primary.name },
        'narration provider unavailable; speaking with the offline voice',
      );
      return this.fallback.synthesize(request);
    }
  }
}

function splitEvenly<T extends { weight: number }>(items: T[], parts: number): T[][] {
  const count = Math.max(1, Math.min(parts, items.length));
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  const groups: T[][] = [[]];
  let acc = 0;
  for (const item of items) {
    const current = groups.at(-1) as T[];
    if (current.length > 0 && acc >= (total * groups.length) / count && groups.length < count)
      groups.push([item]);
    else current.push(item);
    acc += item.weight;
  }
  return groups;
}

export interface TimelineInput {
  clipSeconds: number[];
  /** Wanted pause after each clip; the last one is ignored. */
  pauseWeights: number[];
  videoSeconds: number;
}

/**
 * Start of every clip: after the lead-in, each clip follows the previous one after a pause; the
 * pauses share the time left over in proportion to what the script asked for.
 */
export function planTimeline({ clipSeconds, pauseWeights, videoSeconds }: TimelineInput): number[] {
  const speech = clipSeconds.reduce((a, b) => a + b, 0);
  const gaps = Math.max(0, clipSeconds.length - 1);
  const usual = { ...narrationMargins(videoSeconds), minGap: MIN_GAP_SECONDS };
  const spareWith = (m: { leadIn: number; tail: number; minGap: number }) =>
    videoSeconds - m.leadIn - m.tail - speech - gaps * m.minGap;
  // A short video whose lines do not fit with the usual margins gets tighter ones.
  const margins = spareWith(usual) >= 0 ? usual : TIGHT_MARGINS;
  const spare = spareWith(margins);
  if (spare < 0) {
    throw new Error(
      `the narration is ${speech.toFixed(1)} s of speech in ${clipSeconds.length} lines, too long for a ${videoSeconds} s video`,
    );
  }
  const weights = pauseWeights.slice(0, gaps).map((w) => Math.max(0, w));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const starts: number[] = [];
  let t = margins.leadIn;
  clipSeconds.forEach((seconds, i) => {
    starts.push(t);
    if (i < gaps) {
      const share = weightSum > 0 ? (weights[i] as number) / weightSum : 1 / gaps;
      t += seconds + margins.minGap + spare * share;
    }
  });
  return starts;
}

export function createNarrationStage(
  narrator: Narrator,
  options: { ffmpegTimeoutSeconds: number; events?: ProviderEvents },
): Stage<NarrationOutput> {
  return {
    name: 'narration',
    async run(ctx: StageContext): Promise<NarrationOutput> {
      const script = earlierOutput<ScriptOutput>(ctx, 'script', 'narration');
      const segments = script.sections.flatMap((section) =>
        section.segments.map((s) => ({ ...s, section: section.kind })),
      );
      const files = segments.map((_, i) => `narration/line-${String(i).padStart(3, '0')}.wav`);
      try {
        await mkdir(join(ctx.workDir, 'narration'), { recursive: true });
        const { by } = await narrator.synthesize({
          lines: segments.map((s) => s.text),
          files,
          voice: ctx.spec.voice,
          dir: ctx.workDir,
          signal: ctx.signal,
          timeoutSeconds: options.ffmpegTimeoutSeconds,
          progress: (f) => ctx.progress(f * 0.95),
          account: { addCost: (p, usd) => ctx.addCost(p, usd), spentUsd: () => ctx.spentUsd(), log: ctx.log },
        });
        options.events?.served('narration', by);
        const durations = await Promise.all(
          files.map(async (f) => (await readWavInfo(join(ctx.workDir, f))).durationSeconds),
        );
        const starts = planTimeline({
          clipSeconds: durations,
          pauseWeights: segments.map((s) => s.pauseAfterSeconds),
          videoSeconds: ctx.spec.durationSeconds,
        });
        const clips = segments.map((segment, i) => ({
          file: files[i] as string,
          text: segment.text,
          section: segment.section,
          startSeconds: round(starts[i] as number),
          durationSeconds: durations[i] as number,
        }));
        const last = clips.at(-1);
        ctx.progress(1);
        return {
          voice: ctx.spec.voice,
          narrator: by,
          clips,
          speechSeconds: round(durations.reduce((a, b) => a + b, 0)),
          endSeconds: last ? round(last.startSeconds + last.durationSeconds) : 0,
        };
      } catch (error) {
        throw asStageError('narration', error);
      }
    },
    async isReusable(output: NarrationOutput, ctx: StageContext): Promise<boolean> {
      for (const clip of output.clips) {
        try {
          const info = await readWavInfo(join(ctx.workDir, clip.file));
          if (Math.abs(info.durationSeconds - clip.durationSeconds) > 1e-6) return false;
        } catch {
          return false;
        }
      }
      return output.clips.length > 0;
    },
  };
}

/** Millisecond precision: what a caption file can say, and far below what anyone can hear. */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
