import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allMetrics, metricCatalog } from '../../runtime/contract/metrics.js';

test('every metric name is prefixed, unique and snake_case', () => {
  const names = allMetrics.map((m) => m.name);
  assert.equal(new Set(names).size, names.length, 'duplicate metric names');
  for (const name of names) assert.match(name, /^archibald_[a-z0-9_]+$/, name);
});

test('counters end in _total and nothing else does', () => {
  for (const m of allMetrics) {
    assert.equal(m.name.endsWith('_total'), m.type === 'counter', m.name);
  }
});

test('histograms carry a base unit and sorted buckets', () => {
  for (const m of allMetrics.filter((x) => x.type === 'histogram')) {
    assert.match(m.name, /_(seconds|usd)$/, m.name);
    assert.ok(m.buckets && m.buckets.length > 0, `${m.name} has no buckets`);
    assert.deepEqual(
      [...m.buckets].sort((a, b) => a - b),
      [...m.buckets],
      `${m.name} buckets unsorted`,
    );
  }
});

test('no label can hold an unbounded value such as an id', () => {
  for (const m of allMetrics) {
    for (const label of m.labelNames)
      assert.doesNotMatch(label, /(^|_)(id|key|topic|url|path)$/, `${m.name}{${label}}`);
  }
});

test('the SLO and alert thresholds are histogram bucket boundaries', () => {
  assert.ok(metricCatalog.httpRequestDuration.buckets.includes(0.2), 'API p95 < 200 ms needs a 0.2 s bucket');
  assert.ok(metricCatalog.videoCost.buckets.includes(0.1), 'cost > $0.10 alert needs a 0.1 bucket');
});
