import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMPOSE_DIR, renderSingleNode } from '../../deploy/compose/render.js';

const committedDir = join(import.meta.dirname, '..', '..', COMPOSE_DIR);

test('the committed single-node files are what `npm run compose` writes now', () => {
  for (const [name, content] of renderSingleNode()) {
    let onDisk: string;
    try {
      onDisk = readFileSync(join(committedDir, name), 'utf8');
    } catch {
      assert.fail(`${COMPOSE_DIR}/${name} is missing: run \`npm run compose\` and commit the result`);
    }
    assert.ok(
      onDisk === content,
      `${COMPOSE_DIR}/${name} is stale: run \`npm run compose\` and commit the result`,
    );
  }
});
