import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  logRetention,
  logStorageGiB,
  traceRetention,
  traceSampler,
  traceStorageGiB,
} from '../../stacks/planning/observability.js';
import { TIERS } from '../../stacks/tiers.js';
import type { Tier } from '../../stacks/tiers.js';

const withTracing = (tier: Tier, tracing: Partial<Tier['tracing']>): Tier => ({
  ...tier,
  tracing: { ...tier.tracing, ...tracing },
});

test('dev keeps every trace; prod samples a parent-based ratio of new traces', () => {
  assert.deepEqual(traceSampler(TIERS.dev), { sampler: 'parentbased_always_on' });
  assert.deepEqual(traceSampler(TIERS.prod), { sampler: 'parentbased_traceidratio', arg: '0.1' });
  for (const tier of Object.values(TIERS)) {
    const { sampler } = traceSampler(tier);
    assert.ok(sampler.startsWith('parentbased_'), `${tier.name}: the worker follows the API's decision`);
  }
});

test('a sample ratio outside (0, 1] is refused rather than silently tracing nothing or everything', () => {
  assert.throws(() => traceSampler(withTracing(TIERS.prod, { sampleRatio: 0 })), /not in \(0, 1\]/);
  assert.throws(() => traceSampler(withTracing(TIERS.prod, { sampleRatio: 1.5 })), /not in \(0, 1\]/);
});

test("Jaeger's volume holds the sampled spans of the retention window, in 5 GiB steps", () => {
  // prod: 500 spans/s × 0.1 × 168 h × 1 KiB × 1.5 = 43.3 GiB → 45.
  assert.equal(traceStorageGiB(TIERS.prod), 45);
  assert.equal(traceStorageGiB(withTracing(TIERS.prod, { sampleRatio: 0.2 })), 90, 'twice the sampled spans');
  assert.equal(traceStorageGiB(withTracing(TIERS.dev, { spansPerSecond: 1 })), 5, 'never below the floor');
  for (const tier of Object.values(TIERS)) assert.equal(traceStorageGiB(tier) % 5, 0);
  assert.equal(traceRetention(TIERS.prod), '168h');
});

test("Loki's volume holds the tier's compressed logs for its retention", () => {
  // prod: 200 kB/s × 14 days / 10 × 1.5 = 33.8 GiB → 35.
  assert.equal(logStorageGiB(TIERS.prod), 35);
  assert.equal(logRetention(TIERS.prod), '336h');
  const tiers = Object.values(TIERS);
  for (let i = 1; i < tiers.length; i++)
    assert.ok(
      logStorageGiB(tiers[i] as Tier) >= logStorageGiB(tiers[i - 1] as Tier),
      'larger tiers never get less',
    );
});
