/**
 * `archibald render "<topic>"`: renders one video. With API_URL set it submits through the API
 * (ARCHIBALD_API_KEY authenticates) and downloads the result; otherwise it runs the pipeline in
 * this process. Shows a progress bar with the current stage and ends with a one-line summary.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { closeConfig } from '../../config/load.js';
import { StageError } from '../../pipeline/stage.js';
import { renderThroughApi } from '../../render/api-client.js';
import { renderInProcess } from '../../render/in-process.js';
import { ProgressLine } from '../../render/progress-line.js';
import { defaultOutputName, renderSpec, RenderRequestError, type RenderFlags } from '../../render/request.js';
import { describeVideo } from '../../render/summary.js';
import { stageOptions } from '../../worker/pipeline-stages.js';
import { CliError, configOrExit } from '../run.js';

interface RenderCommandFlags extends RenderFlags {
  out?: string;
}

export function renderCommand(program: Command): void {
  program
    .command('render')
    .description(
      'render one video: through the API when API_URL is set (with ARCHIBALD_API_KEY), else in this process',
    )
    .argument('<topic>', 'what the meditation is about (1-200 characters)')
    .option('--duration <seconds>', 'length in seconds, 15-600', '60')
    .option('--aspect <ratio>', '16:9, 9:16 or 1:1', '16:9')
    .option('--resolution <name>', '720p or 1080p', '720p')
    .option('--voice <name>', 'flite voice: slt, awb, kal, kal16, rms', 'slt')
    .option('--style <name>', 'calm, sleep, focus or gratitude', 'calm')
    .option('--seed <text>', 'seed for every choice (same seed, same video)')
    .option('--no-burn-captions', 'do not draw the captions on the picture (the .vtt is still written)')
    .option('--out <file>', 'where to write the MP4 (default: <topic>.mp4 here)')
    .action(async (topic: string, flags: RenderCommandFlags) => {
      let spec;
      try {
        spec = renderSpec(topic, flags);
      } catch (error) {
        if (error instanceof RenderRequestError) throw new CliError(error.message, 2);
        throw error;
      }
      const out = resolve(flags.out ?? defaultOutputName(spec.topic));
      if (!out.toLowerCase().endsWith('.mp4')) throw new CliError('--out must name an .mp4 file', 2);

      const controller = new AbortController();
      const interrupt = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const bar = new ProgressLine();
      const started = performance.now();
      const apiUrl = process.env.API_URL;
      try {
        if (apiUrl) {
          const apiKey = process.env.ARCHIBALD_API_KEY;
          if (!apiKey) {
            throw new CliError(
              'API_URL is set, so render goes through the API: set ARCHIBALD_API_KEY to a key from `archibald keys create`',
              2,
            );
          }
          console.error(`rendering "${spec.topic}" through ${apiUrl}`);
          await renderThroughApi({
            apiUrl,
            apiKey,
            spec,
            out,
            signal: controller.signal,
            onProgress: (s, p) => bar.update(s, p),
          });
        } else {
          const config = configOrExit();
          try {
            console.error(`rendering "${spec.topic}" in this process`);
            await renderInProcess({
              spec: { ...spec, seed: spec.seed ?? defaultOutputName(spec.topic) },
              options: stageOptions(config),
              workRoot: config.workDir,
              out,
              signal: controller.signal,
              log: pino({ level: 'warn' }),
              onProgress: (s, p) => bar.update(s, p),
            });
          } finally {
            closeConfig(config);
          }
        }
        bar.done();
        const seconds = (performance.now() - started) / 1000;
        console.log(`${out}: ${await describeVideo(out)}, rendered in ${seconds.toFixed(1)} s`);
      } catch (error) {
        bar.done();
        if (error instanceof CliError) throw error;
        if (error instanceof StageError)
          throw new CliError(`the ${error.stage} stage failed: ${error.message}`);
        throw new CliError(error instanceof Error ? error.message : String(error));
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
}
