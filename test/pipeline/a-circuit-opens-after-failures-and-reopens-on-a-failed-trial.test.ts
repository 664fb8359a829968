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

test('a half-open circuit admits one trial at a time: the others are skipped until it settles', () => {
  let now = 1_000;
  const breaker = new CircuitBreaker({ failures: 1, cooldownMs: 500, now: () => now });
  assert.equal(breaker.admit('m'), true, 'closed: calls go');
  breaker.failed('m');
  assert.equal(breaker.admit('m'), false, 'open: skipped');
  now += 500;
  assert.equal(breaker.admit('m'), true, 'the trial');
  assert.equal(breaker.admit('m'), false, 'a concurrent call while the trial is in flight');
  assert.equal(breaker.state('m'), 'half_open');
  breaker.failed('m');
  assert.equal(breaker.admit('m'), false, 'the failed trial reopened the circuit');
  now += 500;
  assert.equal(breaker.admit('m'), true, 'a new trial after the next cool-down');
  breaker.succeeded('m');
  assert.equal(breaker.admit('m'), true);
  assert.equal(breaker.admit('m'), true, 'closed again: every call goes');
});

test('a trial that never settles holds the others back for one cool-down only', () => {
  let now = 1_000;
  const breaker = new CircuitBreaker({ failures: 1, cooldownMs: 500, now: () => now });
  breaker.failed('m');
  now += 500;
  assert.equal(breaker.admit('m'), true);
  now += 499;
  assert.equal(breaker.admit('m'), false);
  now += 1;
  assert.equal(breaker.admit('m'), true, 'the abandoned trial no longer counts');
});
