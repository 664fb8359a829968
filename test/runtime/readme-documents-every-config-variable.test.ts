import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { configVariables } from '../../runtime/config/schema.js';

test('the README documents every configuration variable with its default', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  for (const v of configVariables) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
    assert.ok(row, `README has no row for ${v.name}`);
    if (v.default !== undefined && v.default !== '' && v.name !== 'WORK_DIR')
      assert.ok(
        row.includes(`\`${String(v.default)}\``),
        `README row for ${v.name} lacks its default ${v.default}`,
      );
  }
});
