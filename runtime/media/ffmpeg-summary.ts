/**
 * What a span may say about an ffmpeg run: the program, the kinds of its inputs, the names of the
 * filters in its graph, the codecs and containers of its outputs. Never an argument's value: a
 * lavfi source or a filter argument can hold the narration text (flite's `text=`) or a caption, and
 * file names are the user's business too.
 */
import { extname } from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import type { FfmpegJob } from './ffmpeg.js';

/** Filter names in a filter graph, in first-use order: quoted arguments and [labels] removed. */
export function filterNames(graph: string): string[] {
  const bare = graph
    .replace(/'(?:[^'\\]|\\.)*'/g, '')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\\./g, '');
  const names = bare
    .split(/[;,]/)
    .map((part) => /^\s*([A-Za-z][A-Za-z0-9_]*)/.exec(part)?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}

function inputKind(input: FfmpegJob['inputs'][number]): string {
  if (/(^|\s)-f\s+lavfi(\s|$)/.test((input.options ?? []).join(' '))) {
    // The source's first filter name only: its arguments may be text (flite=text=...).
    return `lavfi:${filterNames(input.source)[0] ?? '?'}`;
  }
  return `file:${extname(input.source).slice(1).toLowerCase() || '?'}`;
}

const CODEC_FLAGS = new Set(['-c', '-codec', '-c:v', '-c:a', '-c:s', '-vcodec', '-acodec', '-scodec']);

export function summarizeFfmpeg(job: FfmpegJob): Attributes {
  const codecs = job.outputs.flatMap((output) =>
    output.options.flatMap((option, index) => {
      const [flag, ...rest] = option.split(/\s+/);
      if (!CODEC_FLAGS.has(flag ?? '')) return [];
      // fluent-ffmpeg accepts "-c:v libx264" as one string or as two.
      const value = rest.length > 0 ? rest[0] : output.options[index + 1];
      return value ? [value] : [];
    }),
  );
  return {
    'process.executable.name': 'ffmpeg',
    'archibald.ffmpeg.inputs': job.inputs.map(inputKind),
    'archibald.ffmpeg.filters': job.filterComplex ? filterNames(job.filterComplex) : [],
    'archibald.ffmpeg.codecs': [...new Set(codecs)],
    'archibald.ffmpeg.outputs': job.outputs.map((o) => extname(o.target).slice(1).toLowerCase() || '?'),
    ...(job.expectedDurationSeconds !== undefined
      ? { 'archibald.ffmpeg.expected_duration_s': job.expectedDurationSeconds }
      : {}),
  };
}
