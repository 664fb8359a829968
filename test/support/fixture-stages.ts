/**
 * Real stages for testing the worker and its runner (not a render): they write files in the work
 * directory, honour the AbortSignal, report progress and cost, and append each run to a ledger
 * file so a test can count which stage ran how often and in which process. None produces a video.
 */
import { appendFile, access, readFile, writeFile } from 'node:fs/promises';
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
}

export function fixtureOptionsFromEnv(env = process.env): FixtureOptions {
  return {
    ledger: env.FIXTURE_LEDGER ?? '/dev/null',
    narrationMs: Number(env.FIXTURE_NARRATION_MS ?? 200),
    ...(env.FIXTURE_FAIL_STAGE ? { failStage: env.FIXTURE_FAIL_STAGE as StageName } : {}),
    failTimes: Number(env.FIXTURE_FAIL_TIMES ?? 0),
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

  const script: Stage<{ path: string; words: number }> = {
    name: 'script',
    async run(ctx) {
      await record(ctx, 'script');
      await maybeFail(ctx, 'script');
      const text = `Breathe in. ${ctx.spec.topic}. Breathe out.`;
      const path = join(ctx.workDir, 'script.txt');
      await writeFile(path, text);
      ctx.addCost('fixture-llm', 0.002);
      return { path, words: text.split(/\s+/).length };
    },
    isReusable: (output) => exists(output.path),
  };

  const narration: Stage<{ path: string; ms: number }> = {
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
      const script = ctx.outputs.script as { path: string };
      const path = join(ctx.workDir, 'narration.txt');
      await writeFile(path, `narrated: ${await readFile(script.path, 'utf8')}`);
      return { path, ms: total };
    },
    isReusable: (output) => exists(output.path),
  };

  const captions: Stage<{ path: string; cues: number }> = {
    name: 'captions',
    async run(ctx) {
      await record(ctx, 'captions');
      await maybeFail(ctx, 'captions');
      const script = await readFile((ctx.outputs.script as { path: string }).path, 'utf8');
      const path = join(ctx.workDir, 'captions.vtt');
      await writeFile(path, `WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n${script}\n`);
      return { path, cues: 1 };
    },
  };

  return [script, narration, captions];
}
