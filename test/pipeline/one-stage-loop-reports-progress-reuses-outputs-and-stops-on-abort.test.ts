import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  AttemptSuperseded,
  StageRunError,
  runStages,
  type RunStagesInput,
  type StageOutcome,
  type StageProgress,
  type StageRecorder,
  type StoredStage,
} from '../../runtime/pipeline/run-stages.js';
import { StageError, type Stage, type StageName } from '../../runtime/pipeline/stage.js';
import { standardSpec } from './stage-runner.js';

// Small stages of our own: each writes a file in the work directory (reusable while it is there),
// reports progress in steps and spends a little; `waitForAbort` holds a stage until cancelled.
interface FileOutput {
  file: string;
}
const ran: StageName[] = [];
function fileStage(
  name: StageName,
  options: { waitForAbort?: boolean; fail?: boolean } = {},
): Stage<FileOutput> {
  return {
    name,
    async run(ctx) {
      ran.push(name);
      for (const fraction of [0.25, 0.5, 0.75]) ctx.progress(fraction);
      ctx.addCost('test-provider', 0.01);
      if (options.fail) throw new Error('disk on fire');
      if (options.waitForAbort) {
        await new Promise((_, reject) => {
          const stop = () => reject(new StageError(name, 'stopped'));
          if (ctx.signal.aborted) stop();
          else ctx.signal.addEventListener('abort', stop, { once: true });
        });
      }
      await writeFile(join(ctx.workDir, `${name}.txt`), name);
      return { file: `${name}.txt` };
    },
    async isReusable(output, ctx) {
      return access(join(ctx.workDir, output.file)).then(
        () => true,
        () => false,
      );
    },
  };
}

/** An attempt's records in memory; `refuse` names a write another attempt would have fenced off. */
function memoryRecorder(stored: Partial<Record<StageName, StoredStage>> = {}, refuse?: string) {
  const writes: string[] = [];
  const recorder: StageRecorder = {
    completed: async () => new Map(Object.entries(stored) as Array<[StageName, StoredStage]>),
    started: async (stage) => {
      writes.push(`${stage}:started`);
      return refuse !== `${stage}:started`;
    },
    finished: async (stage, outcome: StageOutcome) => {
      writes.push(`${stage}:${outcome.status}`);
      return refuse !== `${stage}:finished`;
    },
  };
  return { recorder, writes };
}

async function withWorkDir<T>(body: (workDir: string) => Promise<T>): Promise<T> {
  const workDir = await mkdtemp(join(tmpdir(), 'archibald-test-loop-'));
  try {
    return await body(workDir);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

const names: StageName[] = ['script', 'narration', 'visuals', 'captions'];
const input = (workDir: string, more: Partial<RunStagesInput> = {}): RunStagesInput => ({
  videoId: 'loop-test',
  spec: standardSpec,
  workDir,
  signal: new AbortController().signal,
  log: pino({ level: 'silent' }),
  ...more,
});

test('overall progress rises through every stage to 100 and carries the cost so far', async () => {
  ran.length = 0;
  const reports: StageProgress[] = [];
  const result = await withWorkDir((workDir) =>
    runStages(
      // Out of order on purpose: the loop runs them in STAGE_ORDER.
      [...names].reverse().map((n) => fileStage(n)),
      input(workDir, { onProgress: (p) => void reports.push(p) }),
    ),
  );
  assert.deepEqual(ran, names);
  assert.deepEqual(result.ran, names);
  const percents = reports.map((r) => r.percent);
  assert.deepEqual(
    [...percents].sort((a, b) => a - b),
    percents,
    `went backwards: ${percents.join(', ')}`,
  );
  assert.equal(percents[0], 0);
  assert.equal(percents.at(-1), 100);
  assert.deepEqual([...new Set(reports.map((r) => r.stage))], names);
  // Each stage is reported at 0 when it starts and at 1 when it ends.
  for (const stage of names) {
    const fractions = reports.filter((r) => r.stage === stage).map((r) => r.fraction);
    assert.deepEqual([fractions[0], fractions.at(-1)], [0, 1], stage);
  }
  assert.ok(Math.abs(result.costUsd - 0.04) < 1e-9, `${result.costUsd}`);
  assert.ok(Math.abs(reports.at(-1)!.costUsd - 0.04) < 1e-9);

  // Throttled, a stage's progress in between is dropped but its start and end are still reported.
  const throttled: StageProgress[] = [];
  await withWorkDir((workDir) =>
    runStages(
      names.map((n) => fileStage(n)),
      input(workDir, { progressIntervalMs: 60_000, onProgress: (p) => void throttled.push(p) }),
    ),
  );
  assert.deepEqual(
    throttled.map((r) => r.fraction),
    names.flatMap(() => [0, 1]),
  );
});

test('a stored output still reusable is not run again; one whose file is gone is', async () => {
  ran.length = 0;
  await withWorkDir(async (workDir) => {
    await writeFile(join(workDir, 'script.txt'), 'script');
    const { recorder, writes } = memoryRecorder({
      script: { output: { file: 'script.txt' }, costUsd: 0.5 },
      narration: { output: { file: 'narration.txt' }, costUsd: 0.5 }, // its file is gone
    });
    const reports: StageProgress[] = [];
    const result = await runStages(
      names.map((n) => fileStage(n)),
      input(workDir, { recorder, onProgress: (p) => void reports.push(p) }),
    );
    assert.deepEqual(ran, ['narration', 'visuals', 'captions']);
    assert.deepEqual(result.ran, ['narration', 'visuals', 'captions']);
    assert.deepEqual(result.outputs.script, { file: 'script.txt' });
    assert.equal(await readFile(join(workDir, 'narration.txt'), 'utf8'), 'narration');
    assert.ok(!writes.some((w) => w.startsWith('script:')), 'the reused stage is not recorded again');
    assert.ok(!reports.some((r) => r.stage === 'script'));
    // The reused stage's share is counted: progress starts where the script stage ends.
    assert.ok(reports[0]!.percent > 0);
    assert.equal(reports.at(-1)!.percent, 100);
    // Its earlier cost too, only the stored one (narration ran again: its old cost is not counted).
    assert.ok(Math.abs(result.costUsd - 0.53) < 1e-9, `${result.costUsd}`);
  });
});

test('a refused stage write stops the attempt with AttemptSuperseded and nothing more runs', async () => {
  for (const refuse of ['narration:started', 'narration:finished']) {
    ran.length = 0;
    const { recorder, writes } = memoryRecorder({}, refuse);
    await withWorkDir(async (workDir) => {
      await assert.rejects(
        runStages(
          names.map((n) => fileStage(n)),
          input(workDir, { recorder }),
        ),
        (error: unknown) => {
          assert.ok(error instanceof AttemptSuperseded, String(error));
          assert.equal(error.stage, 'narration');
          return true;
        },
      );
    });
    assert.deepEqual(ran, refuse === 'narration:started' ? ['script'] : ['script', 'narration'], refuse);
    assert.equal(writes.at(-1), refuse === 'narration:started' ? 'narration:started' : 'narration:completed');
  }
});

test('aborting mid-stage gives StageRunError marked aborted, with the reason, recorded as cancelled', async () => {
  ran.length = 0;
  const controller = new AbortController();
  const { recorder, writes } = memoryRecorder();
  await withWorkDir(async (workDir) => {
    const run = runStages(
      [fileStage('script'), fileStage('narration', { waitForAbort: true }), fileStage('visuals')],
      input(workDir, {
        recorder,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'narration' && p.fraction === 0.5)
            controller.abort(new Error('cancelled by the user'));
        },
      }),
    );
    await assert.rejects(run, (error: unknown) => {
      assert.ok(error instanceof StageRunError, String(error));
      assert.ok(error instanceof StageError, 'a StageError for callers that report stage failures');
      assert.equal(error.stage, 'narration');
      assert.equal(error.aborted, true);
      assert.equal(error.message, 'cancelled by the user');
      return true;
    });
  });
  assert.deepEqual(ran, ['script', 'narration']);
  assert.deepEqual(writes, [
    'script:started',
    'script:completed',
    'narration:started',
    'narration:cancelled',
  ]);

  // Aborted before a stage starts, it does not run.
  ran.length = 0;
  await withWorkDir(async (workDir) => {
    await assert.rejects(
      runStages([fileStage('script')], input(workDir, { signal: AbortSignal.abort('shutting down') })),
      (error: unknown) => {
        assert.ok(error instanceof StageRunError, String(error));
        assert.deepEqual([error.stage, error.aborted, error.message], ['script', true, 'shutting down']);
        return true;
      },
    );
  });
  assert.deepEqual(ran, []);

  // A stage that fails on its own is not aborted; its message names the stage.
  await withWorkDir(async (workDir) => {
    await assert.rejects(
      runStages([fileStage('script', { fail: true })], input(workDir)),
      (error: unknown) => {
        assert.ok(error instanceof StageRunError, String(error));
        assert.equal(error.aborted, false);
        assert.equal(error.message, 'script failed: disk on fire');
        return true;
      },
    );
  });
});
