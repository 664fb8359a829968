/**
 * Bad input to the plan command ends with exit status 2 and a message that says what is wrong:
 * an unknown stack, an unknown option, a ref that does not exist, and a base ref where the program
 * does not evaluate. Nothing is printed on stdout then, and no temporary worktree is left behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempRepo } from './temp-repo.js';
import type { TempRepo } from './temp-repo.js';

let repo: TempRepo;
before(() => {
  repo = makeTempRepo();
});
after(() => repo?.remove());

test('an unknown stack names the stacks there are', () => {
  const r = repo.plan('--stack', 'qa');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /plan: unknown stack "qa": this project has dev, prod, prod-dr, staging/);
});

test('no stack, or an unknown option, shows the usage', () => {
  const none = repo.plan();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--stack is required \(one of dev, prod, prod-dr, staging\)/);
  const unknown = repo.plan('--stack', 'dev', '--bse', 'main');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--bse'[\s\S]*usage: npm run plan -- --stack/);
});

test('a base ref that does not exist is named', () => {
  const r = repo.plan('--stack', 'dev', '--base', 'no-such-branch');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /plan: --base no-such-branch: no commit, branch or tag of that name in /);
});

test('a base where the program does not evaluate says where and why', () => {
  repo.git('checkout', '--quiet', '-b', 'broken', 'base');
  const broken = repo.commitEdit(
    'stacks/index.ts',
    'const cfg = loadStackConfig();',
    "const cfg = loadStackConfig();\n  throw new Error('the program is broken on purpose');",
    'break the program',
  );
  repo.git('checkout', '--quiet', 'base');
  const r = repo.plan('--stack', 'dev', '--base', 'broken');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    new RegExp(
      `plan: the program at --base broken \\(${broken.slice(0, 12)}\\) does not evaluate for stack dev: the program is broken on purpose`,
    ),
  );
  assert.equal(repo.git('worktree', 'list').split('\n').length, 1, 'the temporary worktree is removed');
});
