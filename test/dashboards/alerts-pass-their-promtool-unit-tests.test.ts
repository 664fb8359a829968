import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderRulesFile } from '../../dashboards/artifacts.js';
import { alertDefinitions } from '../../dashboards/rules/alerts.js';
import { alertCases, promtoolTestFiles } from './alert-unit-cases.js';
import { runTool } from './run-tool.js';

const dir = mkdtempSync(join(tmpdir(), 'archibald-promtool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'rules.yaml'), renderRulesFile());

test('the rules file passes promtool check rules', async () => {
  const result = await runTool('promtool', ['check', 'rules', 'rules.yaml'], dir);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS: \d+ rules found/);
});

test('every alert fires, stays quiet and waits for its for duration as its promtool unit tests expect', async () => {
  const files = promtoolTestFiles('rules.yaml');
  for (const [name, content] of files) writeFileSync(join(dir, name), stringify(content, { lineWidth: 0 }));
  const result = await runTool('promtool', ['test', 'rules', ...files.keys()], dir);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS/);
});

test('every alert rule has a unit test that sees it fire and one that sees it quiet', () => {
  for (const rule of alertDefinitions) {
    const evals = alertCases.flatMap((c) => c.alerts).filter((a) => a.alert === rule.alert);
    assert.ok(
      evals.some((e) => e.firing.some((f) => f.labels.severity === rule.labels.severity)),
      `${rule.alert} (${rule.labels.severity}) has no unit test in which it fires`,
    );
    assert.ok(
      evals.some((e) => e.firing.length === 0),
      `${rule.alert} has no unit test in which it stays quiet`,
    );
  }
});

test('the unit tests only name alerts that exist', () => {
  const names = new Set(alertDefinitions.map((a) => a.alert));
  for (const c of alertCases)
    for (const a of c.alerts) assert.ok(names.has(a.alert), `${c.name}: no alert ${a.alert}`);
});
