/**
 * `archibald render "<topic>"`: renders one video. With API_URL configured it submits through the
 * API (ARCHIBALD_API_KEY authenticates) and downloads the result; otherwise it runs the pipeline in
 * this process. The flags make the API's request body, validated with the API's own validator
 * (so the defaults are the API's: VIDEO_DEFAULTS). Shows a progress bar with the current stage and
 * ends with a one-line summary.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { closeConfig } from '../../config/load.js';
import {
  ASPECTS,
  DURATION_LIMITS,
  RESOLUTIONS,
  StageError,
  STYLES,
  VIDEO_DEFAULTS,
  VOICES,
} from '../../pipeline/stage.js';
import { renderThroughApi } from '../../render/api-client.js';
import { renderInProcess } from '../../render/in-process.js';
import { ProgressLine } from '../../render/progress-line.js';
import {
  defaultOutputName,
  renderRequest,
  RenderRequestError,
  type RenderFlags,
} from '../../render/request.js';
import { describeVideo } from '../../render/summary.js';
import { stageOptions } from '../../worker/pipeline-stages.js';
import { CliError, configOrExit } from '../run.js';

interface RenderCommandFlags extends RenderFlags {
  out?: string;
}

const choices = (values: readonly string[], fallback: string) => `${values.join(', ')} (default ${fallback})`;

export function renderCommand(program: Command): void {
  program
    .command('render')
    .description(
      'render one video: through the API when API_URL is set (with ARCHIBALD_API_KEY), else in this process',
    )
    .argument('<topic>', 'what the meditation is about (1-200 characters)')
    // No commander defaults: what a flag leaves out, the API's schema fills in (VIDEO_DEFAULTS).
    .option(
      '--duration <seconds>',
      `length in seconds, ${DURATION_LIMITS.min}-${DURATION_LIMITS.max} (default ${VIDEO_DEFAULTS.durationSeconds})`,
    )
    .option('--aspect <ratio>', choices(ASPECTS, VIDEO_DEFAULTS.aspect))
    .option('--resolution <name>', choices(RESOLUTIONS, VIDEO_DEFAULTS.resolution))
    .option('--voice <name>', `flite voice: ${choices(VOICES, VIDEO_DEFAULTS.voice)}`)
    .option('--style <name>', choices(STYLES, VIDEO_DEFAULTS.style))
    .option('--seed <text>', 'seed for every choice (same seed, same video)')
    // Both forms, so that neither sets a default of its own.
    .option('--burn-captions', `draw the captions on the picture (default ${VIDEO_DEFAULTS.burnCaptions})`)
    .option('--no-burn-captions', 'do not draw the captions on the picture (the .vtt is still written)')
    .option('--out <file>', 'where to write the MP4 (default: <topic>.mp4 here)')
    .action(async (topic: string, flags: RenderCommandFlags) => {
      let spec;
      try {
        spec = renderRequest(topic, flags);
      } catch (error) {
        if (error instanceof RenderRequestError) throw new CliError(error.message, 2);
        throw error;
      }
      const out = resolve(flags.out ?? defaultOutputName(spec.topic));
      if (!out.toLowerCase().endsWith('.mp4')) throw new CliError('--out must name an .mp4 file', 2);

      const config = configOrExit();
      const controller = new AbortController();
      const interrupt = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const bar = new ProgressLine();
      const started = performance.now();
      try {
        if (config.apiUrl) {
          if (!config.apiKey) {
            throw new CliError(
              'API_URL is set, so render goes through the API: set ARCHIBALD_API_KEY (or ARCHIBALD_API_KEY_FILE) to a key from `archibald keys create`',
              2,
            );
          }
          console.error(`rendering "${spec.topic}" through ${config.apiUrl}`);
          await renderThroughApi({
            apiUrl: config.apiUrl,
            apiKey: config.apiKey.value(),
            spec,
            out,
            signal: controller.signal,
            onProgress: (s, p) => bar.update(s, p),
          });
        } else {
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
        closeConfig(config);
      }
    });
}
