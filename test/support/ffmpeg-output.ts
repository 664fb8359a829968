/**
 * Media the provider fakes answer with (fake-elevenlabs.ts' MP3s, fake-fal.ts' JPEGs): made by
 * ffmpeg from a lavfi source, written to stdout, and kept per key, so each is made once per run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const made = new Map<string, Promise<Buffer>>();

/** ffmpeg's output for `args` (inputs and output options, without the output, which is stdout). */
export function ffmpegOutput(args: string[]): Promise<Buffer> {
  const key = args.join('\0');
  let output = made.get(key);
  if (!output) {
    output = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    }).then(({ stdout }) => stdout);
    made.set(key, output);
  }
  return output;
}
