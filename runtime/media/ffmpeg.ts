/**
 * The one place that runs ffmpeg and ffprobe. fluent-ffmpeg is archived upstream, so nothing else
 * in the code base touches it: callers describe inputs, a filter graph and outputs, and get back
 * progress, cancellation (AbortSignal and timeout, SIGTERM then SIGKILL) and, on failure, an
 * FfmpegError carrying ffmpeg's own error line.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import ffmpeg from 'fluent-ffmpeg';
import { inSpan } from '../telemetry/spans.js';
import { summarizeFfmpeg } from './ffmpeg-summary.js';

export interface FfmpegInput {
  /** A file path (relative to `cwd` when one is given) or, with `-f lavfi`, a source description. */
  source: string;
  /** Options placed before this input's `-i` (for example `-stream_loop -1` or `-f lavfi`). */
  options?: string[];
}

export interface FfmpegOutput {
  target: string;
  options: string[];
}

export interface FfmpegJob {
  inputs: FfmpegInput[];
  filterComplex?: string;
  outputs: FfmpegOutput[];
  /** Working directory: lets filter arguments name files without path escaping. */
  cwd?: string;
  /** Length of the output being made, so that ffmpeg's `time=` can be turned into a fraction. */
  expectedDurationSeconds?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  timeoutSeconds?: number;
  /** `info` keeps the filters' reports (ebur128, volumedetect) in `log`; `error` is quieter. */
  logLevel?: 'error' | 'info';
}

export interface FfmpegResult {
  /** ffmpeg's log lines, without the progress lines. */
  log: string[];
}

export type FfmpegFailure = 'failed' | 'aborted' | 'timeout';

export class FfmpegError extends Error {
  constructor(
    readonly failure: FfmpegFailure,
    message: string,
    readonly ffmpegLines: string[] = [],
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

/** How long ffmpeg gets to exit after SIGTERM before it is killed outright. */
const KILL_GRACE_MS = 1500;
const MAX_LOG_LINES = 400;
const STATS_LINE = /^(frame=|size=|\s*$)/;
const TIME_MARK = /time=\s*(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;
const LOG_PREFIX = /^\[[^\]]+ @ 0x[0-9a-f]+\]\s*/;

/** The flags every run gets: no banner, never read stdin, progress lines on stderr. */
function globalOptions(logLevel: 'error' | 'info'): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', logLevel, '-stats', '-stats_period', '0.5'];
}

/** Runs ffmpeg in a span of its own (under the stage's), which names the run but not its arguments. */
export function runFfmpeg(job: FfmpegJob): Promise<FfmpegResult> {
  return inSpan('ffmpeg', { attributes: summarizeFfmpeg(job), statusByCaller: true }, async (span) => {
    try {
      return await run(job);
    } catch (error) {
      // ffmpeg's own error line may quote an argument (a text), so the span keeps the kind only;
      // the stage's span and record carry the message.
      const failure = error instanceof FfmpegError ? error.failure : 'failed';
      span.setAttribute('archibald.ffmpeg.failure', failure);
      if (failure !== 'aborted') span.setStatus({ code: SpanStatusCode.ERROR, message: `ffmpeg ${failure}` });
      throw error;
    }
  });
}

function run(job: FfmpegJob): Promise<FfmpegResult> {
  const { signal } = job;
  if (signal?.aborted) return Promise.reject(abortedError(signal));
  if (job.inputs.length === 0 || job.outputs.length === 0) {
    return Promise.reject(new FfmpegError('failed', 'ffmpeg job needs at least one input and one output'));
  }

  return new Promise<FfmpegResult>((resolve, reject) => {
    const command = buildCommand(job);
    const log: string[] = [];
    let stopReason: FfmpegError | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let started = false;

    const stop = (reason: FfmpegError) => {
      if (stopReason) return;
      stopReason = reason;
      if (!started) return; // killed on 'start' instead: the process does not exist yet
      command.kill('SIGTERM');
      killTimer = setTimeout(() => command.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => stop(abortedError(signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (job.timeoutSeconds && job.timeoutSeconds > 0) {
      const seconds = job.timeoutSeconds;
      timeoutTimer = setTimeout(
        () =>
          stop(new FfmpegError('timeout', `ffmpeg ran longer than its ${seconds} s limit and was stopped`)),
        seconds * 1000,
      );
    }
    const cleanUp = () => {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
    };

    command.on('start', () => {
      started = true;
      if (stopReason) {
        command.kill('SIGTERM');
        killTimer = setTimeout(() => command.kill('SIGKILL'), KILL_GRACE_MS);
      }
    });
    command.on('stderr', (line: string) => {
      const mark = TIME_MARK.exec(line);
      if (mark && job.onProgress && job.expectedDurationSeconds) {
        const seconds = mark[1] === '-' ? 0 : Number(mark[2]) * 3600 + Number(mark[3]) * 60 + Number(mark[4]);
        job.onProgress(Math.min(1, Math.max(0, seconds / job.expectedDurationSeconds)));
      }
      if (STATS_LINE.test(line)) return;
      log.push(line);
      if (log.length > MAX_LOG_LINES) log.shift();
    });
    // fluent-ffmpeg reports 'error' and 'end' only after the process has exited.
    command.on('error', (error: Error) => {
      cleanUp();
      if (stopReason) return reject(stopReason);
      reject(new FfmpegError('failed', describeFailure(error, log), log));
    });
    command.on('end', () => {
      cleanUp();
      if (stopReason) return reject(stopReason);
      job.onProgress?.(1);
      resolve({ log });
    });
    command.run();
  });
}

function buildCommand(job: FfmpegJob): ffmpeg.FfmpegCommand {
  const command = ffmpeg(job.cwd ? { cwd: job.cwd } : {});
  job.inputs.forEach((input, index) => {
    // Global flags ride on the first input: ffmpeg reads them wherever they appear.
    const before =
      index === 0 ? [...globalOptions(job.logLevel ?? 'error'), ...(input.options ?? [])] : input.options;
    command.input(input.source);
    if (before && before.length > 0) command.inputOptions(before);
  });
  if (job.filterComplex) command.complexFilter(job.filterComplex);
  for (const output of job.outputs) command.output(output.target).outputOptions(output.options);
  return command;
}

/** The exact argument list runFfmpeg passes to ffmpeg for a job (for running it bare, elsewhere). */
export function ffmpegArguments(job: FfmpegJob): string[] {
  return buildCommand(job)._getArguments();
}

function abortedError(signal: AbortSignal | undefined): FfmpegError {
  const reason = signal?.reason;
  const detail = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
  return new FfmpegError('aborted', `ffmpeg was stopped: ${detail}`);
}

/**
 * ffmpeg's own words: the first error line is usually the cause ("No such filter: 'x'"), the last
 * one what it gave up on ("Invalid argument"). The `[filter @ 0x…]` prefixes are noise.
 */
export function describeFailure(error: Error, log: readonly string[]): string {
  const lines = log.map((line) => line.replace(LOG_PREFIX, '').trim()).filter((line) => line.length > 0);
  const first = lines[0];
  const last = lines.at(-1);
  if (!first) return error.message.split('\n')[0] ?? 'ffmpeg failed';
  return last && last !== first ? `${first} (${last})` : first;
}

export interface MediaStream {
  type: 'video' | 'audio' | 'subtitle' | 'data' | 'unknown';
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  frameRate?: number;
  durationSeconds?: number;
}

export interface MediaInfo {
  durationSeconds: number;
  formatName: string;
  sizeBytes: number;
  streams: MediaStream[];
}

/** ffprobe's view of a file: container duration and the streams in it. */
export function probeMedia(file: string): Promise<MediaInfo> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(file, (error: Error | null, data: ffmpeg.FfprobeData) => {
      if (error)
        return reject(new FfmpegError('failed', `ffprobe could not read ${file}: ${firstLine(error)}`));
      const duration = Number(data.format.duration);
      resolve({
        durationSeconds: Number.isFinite(duration) ? duration : 0,
        formatName: data.format.format_name ?? '',
        sizeBytes: Number(data.format.size ?? 0),
        streams: data.streams.map((s) => ({
          type:
            (['video', 'audio', 'subtitle', 'data'] as const).find((t) => t === s.codec_type) ?? 'unknown',
          codec: s.codec_name ?? '',
          ...(s.width ? { width: s.width } : {}),
          ...(s.height ? { height: s.height } : {}),
          ...(s.sample_rate ? { sampleRate: Number(s.sample_rate) } : {}),
          ...(s.channels ? { channels: s.channels } : {}),
          ...(s.r_frame_rate && s.codec_type === 'video' ? { frameRate: rate(s.r_frame_rate) } : {}),
          ...(s.duration && Number.isFinite(Number(s.duration))
            ? { durationSeconds: Number(s.duration) }
            : {}),
        })),
      });
    });
  });
}

function rate(fraction: string): number {
  const [num, den] = fraction.split('/').map(Number);
  return num && den ? num / den : 0;
}

function firstLine(error: Error): string {
  const lines = error.message.split('\n').filter((l) => l.trim() && !l.startsWith('ffprobe exited'));
  return (lines.at(-1) ?? error.message).replace(LOG_PREFIX, '').trim();
}
