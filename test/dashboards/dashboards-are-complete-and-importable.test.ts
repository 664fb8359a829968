import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDashboards, DASHBOARD_FOLDER } from '../../dashboards/index.js';
import type { BuiltDashboard } from '../../dashboards/panels.js';

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Variable {
  type: string;
  name: string;
  query?: unknown;
}

const dashboards = buildDashboards() as BuiltDashboard[];

function panelsOf(d: BuiltDashboard): Panel[] {
  return (d.json.panels ?? []) as Panel[];
}

test('the five dashboards exist with stable, unique uids in the Archibald folder', () => {
  assert.deepEqual(
    dashboards.map((d) => [d.uid, d.title]),
    [
      ['archibald-overview', 'Archibald / Overview'],
      ['archibald-pipeline', 'Archibald / Pipeline'],
      ['archibald-api', 'Archibald / API'],
      ['archibald-cost', 'Archibald / Cost'],
      ['archibald-data-stores', 'Archibald / Data stores'],
    ],
  );
  for (const d of dashboards) {
    assert.equal(d.json.uid, d.uid);
    assert.equal(d.json.title, d.title);
    assert.equal(d.folder, DASHBOARD_FOLDER);
    assert.ok(d.uid.length <= 40, `${d.uid}: Grafana uids are at most 40 characters`);
  }
  assert.equal(
    JSON.stringify(buildDashboards()),
    JSON.stringify(dashboards),
    'building twice gives the same dashboards',
  );
});

test('every dashboard has a Prometheus datasource variable that every panel and query uses', () => {
  for (const d of dashboards) {
    const variables = (d.json.templating?.list ?? []) as Variable[];
    const ds = variables.find((v) => v.type === 'datasource');
    assert.ok(ds, `${d.uid} has no datasource variable`);
    assert.equal(ds.query, 'prometheus');
    const ref = { type: 'prometheus', uid: `\${${ds.name}}` };
    for (const p of panelsOf(d)) {
      assert.deepEqual(p.datasource, ref, `${d.uid} / ${p.title}`);
      for (const t of p.targets ?? [])
        assert.deepEqual(t.datasource, ref, `${d.uid} / ${p.title} / ${t.refId}`);
    }
  }
});

test('every panel has a unique id, a title, a description, a unit and queries with unique refIds', () => {
  for (const d of dashboards) {
    const panels = panelsOf(d);
    assert.ok(panels.length >= 5, `${d.uid} has only ${panels.length} panels`);
    const ids = panels.map((p) => p.id);
    assert.ok(
      ids.every((id) => Number.isInteger(id) && (id as number) > 0),
      `${d.uid}: panel ids ${JSON.stringify(ids)}`,
    );
    assert.equal(new Set(ids).size, ids.length, `${d.uid}: duplicate panel ids`);
    for (const p of panels) {
      const where = `${d.uid} / ${p.title}`;
      assert.ok(p.title && p.title.length > 3, `${d.uid}: panel ${p.id} has no title`);
      assert.ok(p.description && p.description.length > 20, `${where}: no description`);
      assert.ok(p.fieldConfig?.defaults?.unit, `${where}: no unit`);
      const targets = p.targets ?? [];
      assert.ok(targets.length > 0, `${where}: no query`);
      const refIds = targets.map((t) => t.refId);
      assert.ok(
        refIds.every((r) => typeof r === 'string' && /^[A-Z]$/.test(r)),
        `${where}: refIds ${JSON.stringify(refIds)}`,
      );
      assert.equal(new Set(refIds).size, refIds.length, `${where}: duplicate refIds`);
      for (const t of targets) assert.ok(t.expr && t.expr.trim(), `${where} / ${t.refId}: empty query`);
    }
  }
});

test('panels sit inside the 24-column grid without overlapping', () => {
  for (const d of dashboards) {
    const boxes = panelsOf(d).map((p) => ({ title: p.title, ...p.gridPos! }));
    for (const b of boxes) {
      assert.ok(
        b.w > 0 && b.h > 0 && b.x >= 0 && b.x + b.w <= 24,
        `${d.uid} / ${b.title}: ${JSON.stringify(b)}`,
      );
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        assert.ok(!overlap, `${d.uid}: "${a.title}" overlaps "${b.title}"`);
      }
    }
  }
});

test('each dashboard shows what the issue asks of it', () => {
  const expected: Record<string, RegExp[]> = {
    'archibald-overview': [
      /success rate/i,
      /cost per video/i,
      /videos per hour/i,
      /queue depth/i,
      /p95 latency/i,
      /error rate/i,
    ],
    'archibald-pipeline': [
      /stage duration p50/i,
      /stage duration p95/i,
      /stage failures/i,
      /worker/i,
      /render time per video second/i,
      /retries and stalled/i,
    ],
    'archibald-api': [/requests per second by route/i, /p50 \/ p95 \/ p99/i, /4xx and 5xx/i, /rate-limited/i],
    'archibald-cost': [/cost per video/i, /spend per provider/i],
    'archibald-data-stores': [/redis memory/i, /redis commands/i, /postgres connections/i, /replica lag/i],
  };
  for (const d of dashboards) {
    const titles = panelsOf(d).map((p) => p.title ?? '');
    for (const want of expected[d.uid] ?? [])
      assert.ok(
        titles.some((t) => want.test(t)),
        `${d.uid} lacks a panel matching ${want}`,
      );
  }
});
