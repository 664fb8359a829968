import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DIR, renderArtifacts } from '../../dashboards/artifacts.js';

const committedDir = join(import.meta.dirname, '..', '..', GENERATED_DIR);

test('the committed dashboards and rules file are what `npm run dashboards` writes now', () => {
  const expected = renderArtifacts();
  const committed = readdirSync(committedDir).sort();
  assert.deepEqual(
    committed,
    [...expected.keys()].sort(),
    'run `npm run dashboards`: the set of generated files differs',
  );
  for (const [name, content] of expected) {
    const onDisk = readFileSync(join(committedDir, name), 'utf8');
    assert.ok(
      onDisk === content,
      `dashboards/generated/${name} is stale: run \`npm run dashboards\` and commit the result`,
    );
  }
});

test('every generated dashboard is valid JSON with its uid', () => {
  for (const [name, content] of renderArtifacts()) {
    if (!name.endsWith('.json')) continue;
    const json = JSON.parse(content) as { uid: string };
    assert.equal(`${json.uid}.json`, name);
  }
});
