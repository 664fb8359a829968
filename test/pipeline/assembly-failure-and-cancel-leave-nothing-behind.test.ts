import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageError, type Stage, type StageName } from '../../runtime/pipeline/stage.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import { createAssembleStage } from '../../runtime/stages/assemble.js';
import { ffmpegDescendants } from './processes.js';
import { runStages, standardSpec } from './stage-runner.js';

const spec = { ...standardSpec, durationSeconds: 30 };
let root: string;
let stages: Stage[];
let prepared: Partial<Record<StageName, unknown>>;
const preparedDir = () => join(root, 'work');

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-failures-'));
  stages = createStages({
    storage: { dir: join(root, 'videos'), publicBaseUrl: 'http://127.0.0.1:8080' },
    assetCacheDir: join(root, 'cache'),
    ffmpegTimeoutSeconds: 300,
  });
  const upToAmbient = stages.slice(
    0,
    stages.findIndex((s) => s.name === 'assemble'),
  );
  prepared = (await runStages(upToAmbient, spec, { workDir: preparedDir(), keepWorkDir: true })).outputs;
});

after(() => rm(root, { recursive: true, force: true }));

test('a bad filter fails the assemble stage with ffmpeg’s own message', async () => {
  const broken = createAssembleStage({
    ffmpegTimeoutSeconds: 60,
    encoder: { extraVideoFilters: 'nosuchfilter' },
  });
  await assert.rejects(
    runStages([broken], spec, { workDir: preparedDir(), keepWorkDir: true, outputs: prepared }),
    (error: unknown) => {
      assert.ok(error instanceof StageError, String(error));
      assert.equal(error.stage, 'assemble');
      assert.match(error.message, /No such filter: 'nosuchfilter'/);
      return true;
    },
  );
  assert.deepEqual(await ffmpegDescendants(), []);
});

test('cancelling mid-assembly stops ffmpeg, leaves no process and removes the work directory', async () => {
  const controller = new AbortController();
  let fractionAtCancel = 0;
  const rest = stages.slice(stages.findIndex((s) => s.name === 'assemble'));
  await assert.rejects(
    runStages(rest, spec, {
      workDir: preparedDir(),
      outputs: prepared,
      signal: controller.signal,
      onProgress: (stage, fraction) => {
        if (stage === 'assemble' && fraction > 0.1 && !controller.signal.aborted) {
          fractionAtCancel = fraction;
          controller.abort(new Error('cancelled by the user'));
        }
      },
    }),
    (error: unknown) => {
      assert.ok(error instanceof StageError, String(error));
      assert.equal(error.stage, 'assemble');
      assert.match(error.message, /cancelled by the user/);
      return true;
    },
  );
  assert.ok(fractionAtCancel > 0.1 && fractionAtCancel < 1, `cancelled at ${fractionAtCancel}`);
  assert.deepEqual(await ffmpegDescendants(), []);
  await assert.rejects(access(preparedDir()), { code: 'ENOENT' });
  await assert.rejects(access(join(root, 'videos')), { code: 'ENOENT' }, 'nothing was published');
});
