import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allMetrics, exposedSeriesNames } from '../../runtime/contract/metrics.js';
import { exporterMetricNames } from '../../dashboards/exporters.js';
import { alertNames, buildRuleGroups } from '../../dashboards/index.js';
import { alertDefinitions } from '../../dashboards/rules/alerts.js';
import { inspectPromql } from './promql-inspect.js';

const runbookDir = join(import.meta.dirname, '..', '..', 'runbooks');
const SECTIONS = ['What it means', 'User impact', 'Confirm', 'Mitigate', 'Escalate'];

const known = new Set([
  ...allMetrics.flatMap((m) => exposedSeriesNames(m)),
  ...exporterMetricNames,
  ...buildRuleGroups()
    .flatMap((g) => g.rules)
    .flatMap((r) => ('record' in r ? [r.record] : [])),
]);

function read(alert: string): string {
  return readFileSync(join(runbookDir, `${alert}.md`), 'utf8');
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + 4);
  return markdown.slice(start, next < 0 ? undefined : next);
}

function promqlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```promql\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? '');
}

test('every alert has a runbook named after it', () => {
  for (const alert of alertNames())
    assert.ok(existsSync(join(runbookDir, `${alert}.md`)), `runbooks/${alert}.md is missing`);
});

test('every alert runbook belongs to an alert that exists', () => {
  const alerts = new Set(alertNames());
  const runbooks = readdirSync(runbookDir).filter((f) => /^[A-Z][a-z][A-Za-z0-9]*\.md$/.test(f));
  assert.ok(runbooks.length > 0);
  for (const file of runbooks)
    assert.ok(alerts.has(file.replace(/\.md$/, '')), `runbooks/${file} names no alert`);
});

test('every alert points at its runbook', () => {
  for (const rule of buildRuleGroups().flatMap((g) => g.rules)) {
    if (!('alert' in rule)) continue;
    assert.ok(
      rule.annotations.runbook_url.endsWith(`/runbooks/${rule.alert}.md`),
      rule.annotations.runbook_url,
    );
  }
  const custom = buildRuleGroups({ runbookBaseUrl: 'https://runbooks.example.test/archibald/' });
  const first = custom.flatMap((g) => g.rules).find((r) => 'alert' in r);
  assert.ok(first && 'alert' in first);
  assert.equal(first.annotations.runbook_url, `https://runbooks.example.test/archibald/${first.alert}.md`);
  assert.throws(
    () => buildRuleGroups({ runbookBaseUrl: 'runbooks/' }),
    /runbookBaseUrl is not an absolute URL/,
  );
});

test('every runbook has the five sections, numbered mitigation steps and its severities', () => {
  for (const alert of alertNames()) {
    const md = read(alert);
    assert.ok(md.startsWith(`# ${alert}\n`), `${alert}: the title must be the alert name`);
    for (const heading of SECTIONS) {
      assert.ok(
        section(md, heading).trim().length > 40,
        `${alert}: section "## ${heading}" missing or empty`,
      );
    }
    assert.match(section(md, 'Mitigate'), /\n1\. /, `${alert}: mitigation has no numbered steps`);
    for (const rule of alertDefinitions.filter((a) => a.alert === alert)) {
      assert.ok(
        md.slice(0, 400).includes(rule.labels.severity),
        `${alert}: header does not say ${rule.labels.severity}`,
      );
    }
  }
});

test("every runbook's Confirm section quotes its alert's exact expressions", () => {
  for (const rule of alertDefinitions) {
    const blocks = promqlBlocks(section(read(rule.alert), 'Confirm')).map((b) => b.trim());
    assert.ok(
      blocks.includes(rule.expr.trim()),
      `${rule.alert} (${rule.labels.severity}): expression not quoted as generated:\n${rule.expr}`,
    );
  }
});

test('every query in the runbooks parses and names only catalogued metrics', () => {
  for (const alert of alertNames()) {
    const blocks = promqlBlocks(read(alert));
    assert.ok(blocks.length >= 2, `${alert}: fewer than two queries to confirm with`);
    for (const expr of blocks) {
      const facts = inspectPromql(expr);
      assert.deepEqual(facts.errors, [], `${alert}: ${expr}`);
      for (const name of facts.metrics) assert.ok(known.has(name), `${alert}: ${name} is in no catalog`);
    }
  }
});
