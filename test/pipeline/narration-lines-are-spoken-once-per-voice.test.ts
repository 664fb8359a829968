import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetCache } from '../../runtime/stages/asset-cache.js';
import {
  CachedNarrator,
  createNarrationStage,
  FliteNarrator,
  type Narrator,
  type NarrationOutput,
} from '../../runtime/stages/narration.js';
import { OfflineScriptWriter } from '../../runtime/stages/script/offline-writer.js';
import { createScriptStage } from '../../runtime/stages/script/stage.js';
import { runStages, standardSpec } from './stage-runner.js';

let root: string;
const spoken: string[] = [];
/** The real flite narrator, noting which lines it was asked to speak. */
const flite = new FliteNarrator();
const observed: Narrator = {
  name: flite.name,
  synthesize: (request) => {
    spoken.push(...request.lines);
    return flite.synthesize(request);
  },
};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'archibald-test-lines-'));
});
after(() => rm(root, { recursive: true, force: true }));

async function narrate(voice: 'slt' | 'kal', keep = false) {
  const stages = [
    createScriptStage(new OfflineScriptWriter()),
    createNarrationStage(new CachedNarrator(observed, new AssetCache(join(root, 'cache'))), {
      ffmpegTimeoutSeconds: 60,
    }),
  ];
  return runStages(stages, { ...standardSpec, durationSeconds: 30, voice }, { keepWorkDir: keep });
}

test('a line already spoken by the same voice comes from the cache, identical', async () => {
  const first = await narrate('slt', true);
  const linesSpoken = spoken.length;
  assert.ok(linesSpoken > 3);
  const second = await narrate('slt', true);
  assert.equal(spoken.length, linesSpoken, 'nothing was spoken twice');
  const a = first.outputs.narration as NarrationOutput;
  const b = second.outputs.narration as NarrationOutput;
  assert.deepEqual(b.clips, a.clips);
  for (const clip of a.clips) {
    const [x, y] = await Promise.all([
      readFile(join(first.workDir, clip.file)),
      readFile(join(second.workDir, clip.file)),
    ]);
    assert.ok(x.equals(y), `${clip.file} differs`);
  }
  await Promise.all([first, second].map((r) => rm(r.workDir, { recursive: true, force: true })));
});

test('another voice speaks the lines itself', async () => {
  const before = spoken.length;
  const run = await narrate('kal');
  assert.equal(spoken.length - before, (run.outputs.narration as NarrationOutput).clips.length);
});
