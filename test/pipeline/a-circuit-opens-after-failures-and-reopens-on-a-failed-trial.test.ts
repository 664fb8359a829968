import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker } from '../../runtime/providers/circuit-breaker.js';

test('a circuit opens after its failures, lets one trial through after the cool-down, and a failed trial reopens it at once', () => {
  let now = 1_000;
  const breaker = new CircuitBreaker({ failures: 2, cooldownMs: 500, now: () => now });
  breaker.failed('m');
  assert.equal(breaker.state('m'), 'closed');
  breaker.failed('m');
  assert.equal(breaker.state('m'), 'open');
  assert.equal(breaker.isOpen('m'), true);
  assert.equal(breaker.isOpen('other'), false);
  now += 500;
  assert.equal(breaker.state('m'), 'half_open');
  breaker.failed('m');
  assert.equal(breaker.state('m'), 'open', 'one failed trial is enough');
  now += 500;
  breaker.succeeded('m');
  assert.equal(breaker.state('m'), 'closed');
  assert.deepEqual(breaker.snapshot(), {});
});
