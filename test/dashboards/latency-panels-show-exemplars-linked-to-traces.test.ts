import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDashboards } from '../../dashboards/index.js';

interface Target {
  expr?: string;
  exemplar?: boolean;
}

test('every p95 latency graph shows its exemplars, the points that link to a trace', () => {
  const p95: { dashboard: string; panel: string; exemplar: boolean }[] = [];
  for (const d of buildDashboards()) {
    const panels =
      (d.json as { panels?: { type?: string; title?: string; targets?: Target[] }[] }).panels ?? [];
    // A stat panel shows one number: exemplars are drawn on graphs only.
    for (const panel of panels.filter((p) => p.type === 'timeseries'))
      for (const target of panel.targets ?? [])
        if (target.expr?.startsWith('histogram_quantile(0.95,'))
          p95.push({ dashboard: d.uid, panel: panel.title ?? '', exemplar: target.exemplar === true });
  }
  assert.ok(p95.length >= 3, 'the API and Pipeline dashboards have p95 latency queries');
  assert.deepEqual(
    p95.filter((q) => !q.exemplar).map((q) => `${q.dashboard}: ${q.panel}`),
    [],
  );
});
