/**
 * Real stages for testing the worker and its runner (not a render): they write files in the work
 * directory, honour the AbortSignal, report progress and cost, and append each run to a ledger
 * file so a test can count which stage ran how often and in which process. None produces a video.
 * Like the real stages, they name their files relative to the work directory, so a reused stage's
 * files must be in the attempt's own directory.
 */
import { appendFile, access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StageError } from '../../runtime/pipeline/stage.js';
import type { Stage, StageContext, StageName } from '../../runtime/pipeline/stage.js';

export interface FixtureOptions {
  /** Where every stage run is appended as "<videoId> <stage> <pid>". */
  ledger: string;
  /** How long the narration stage works (ms), in 50 ms steps that honour the signal. */
  narrationMs?: number;
  /** Make this stage fail its first `failTimes` runs per video (with a StageError). */
  failStage?: StageName;
  failTimes?: number;
  /** Adds a publish stage that writes "<videoId>.txt" (narration + captions) in this directory. */
  publishDir?: string;
}

export function fixtureOptionsFromEnv(env = process.env): FixtureOptions {
  return {
    ledger: env.FIXTURE_LEDGER ?? '/dev/null',
    narrationMs: Number(env.FIXTURE_NARRATION_MS ?? 200),
    ...(env.FIXTURE_FAIL_STAGE ? { failStage: env.FIXTURE_FAIL_STAGE as StageName } : {}),
    failTimes: Number(env.FIXTURE_FAIL_TIMES ?? 0),
    ...(env.FIXTURE_PUBLISH_DIR ? { publishDir: env.FIXTURE_PUBLISH_DIR } : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function ledgerEntries(
  ledger: string,
): Promise<Array<{ videoId: string; stage: string; pid: number }>> {
  const text = await readFile(ledger, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [videoId, stage, pid] = line.split(' ');
      return { videoId: videoId!, stage: stage!, pid: Number(pid) };
    });
}

export function fixtureStages(options: FixtureOptions): Stage[] {
  const record = (ctx: StageContext, stage: StageName) =>
    appendFile(options.ledger, `${ctx.videoId} ${stage} ${process.pid}\n`);
  const maybeFail = async (ctx: StageContext, stage: StageName) => {
    if (options.failStage !== stage) return;
    const runs = (await ledgerEntries(options.ledger)).filter(
      (e) => e.videoId === ctx.videoId && e.stage === stage,
    );
    if (runs.length <= (options.failTimes ?? 0))
      throw new StageError(stage, `fixture ${stage} failure #${runs.length}`);
  };

  const script: Stage<{ file: string; words: number }> = {
    name: 'script',
    async run(ctx) {
      await record(ctx, 'script');
      await maybeFail(ctx, 'script');
      const text = `Breathe in. ${ctx.spec.topic}. Breathe out.`;
      await writeFile(join(ctx.workDir, 'script.txt'), text);
      ctx.addCost('fixture-llm', 0.002);
      return { file: 'script.txt', words: text.split(/\s+/).length };
    },
    isReusable: (output, ctx) => exists(join(ctx.workDir, output.file)),
  };

  const narration: Stage<{ file: string; ms: number }> = {
    name: 'narration',
    async run(ctx) {
      await record(ctx, 'narration');
      await maybeFail(ctx, 'narration');
      const total = options.narrationMs ?? 200;
      for (let spent = 0; spent < total; spent += 50) {
        ctx.progress(spent / total);
        // The runner tells cancel from timeout by the signal's reason, so rethrow that reason.
        await delay(Math.min(50, total - spent), undefined, { signal: ctx.signal }).catch(() => {
          throw ctx.signal.reason;
        });
      }
      const script = ctx.outputs.script as { file: string };
      const text = await readFile(join(ctx.workDir, script.file), 'utf8');
      await writeFile(join(ctx.workDir, 'narration.txt'), `narrated by ${process.pid}: ${text}`);
      return { file: 'narration.txt', ms: total };
    },
    isReusable: (output, ctx) => exists(join(ctx.workDir, output.file)),
  };

  const captions: Stage<{ file: string; cues: number }> = {
    name: 'captions',
    async run(ctx) {
      await record(ctx, 'captions');
      await maybeFail(ctx, 'captions');
      const script = await readFile(join(ctx.workDir, (ctx.outputs.script as { file: string }).file), 'utf8');
      await writeFile(
        join(ctx.workDir, 'captions.vtt'),
        `WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n${script}\n`,
      );
      return { file: 'captions.vtt', cues: 1 };
    },
    isReusable: (output, ctx) => exists(join(ctx.workDir, output.file)),
  };

  const publishDir = options.publishDir;
  if (!publishDir) return [script, narration, captions];
  const publish: Stage<{ videoUrl: string; captionsUrl: string; durationSeconds: number }> = {
    name: 'publish',
    async run(ctx) {
      await record(ctx, 'publish');
      const read = (stage: 'narration' | 'captions') =>
        readFile(join(ctx.workDir, (ctx.outputs[stage] as { file: string }).file), 'utf8');
      const [narrated, captioned] = await Promise.all([read('narration'), read('captions')]);
      await mkdir(publishDir, { recursive: true });
      const path = join(publishDir, `${ctx.videoId}.txt`);
      await writeFile(path, `${narrated}\n${captioned}`);
      return { videoUrl: `file://${path}`, captionsUrl: `file://${path}`, durationSeconds: 2 };
    },
  };
  return [script, narration, captions, publish];
}
