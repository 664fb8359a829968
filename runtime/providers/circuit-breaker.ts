/**
 * A circuit breaker per model (or any provider endpoint): after `failures` consecutive failed
 * calls the model is skipped for `cooldownMs`; the first call after the cool-down is a trial, and
 * one answer closes the circuit again. While the trial is in flight the others are still skipped,
 * so a recovering provider gets one call, not every video's at once. Skipping a failing provider for a while spares each video
 * the timeouts and retries a dead provider would cost it, and spares the provider the load.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a circuit (default 3). */
  failures?: number | undefined;
  /** How long an open circuit skips its key, in milliseconds (default 60 000). */
  cooldownMs?: number | undefined;
  now?: (() => number) | undefined;
}

interface Circuit {
  failures: number;
  openUntil: number;
  /** While half-open: until when the trial admitted holds the others back (0: no trial yet). */
  trialUntil: number;
}

export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failures ?? 3;
    this.cooldownMs = options.cooldownMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** closed: calls go through; open: skipped until the cool-down ends; half_open: the next call is a trial. */
  state(key: string): CircuitState {
    const circuit = this.circuits.get(key);
    if (!circuit || circuit.openUntil === 0) return 'closed';
    return circuit.openUntil > this.now() ? 'open' : 'half_open';
  }

  /** Whether the key is cooling down (a read only: `admit` is what lets a call through). */
  isOpen(key: string): boolean {
    return this.state(key) === 'open';
  }

  /**
   * Whether a call may go now. Closed: yes. Open: no. Half-open: yes for the first caller (the
   * trial), no for the others until it settles with `succeeded` or `failed`. A trial that never
   * settles (its job was cancelled) holds the others back for one cool-down at most.
   */
  admit(key: string): boolean {
    const state = this.state(key);
    if (state !== 'half_open') return state === 'closed';
    const circuit = this.circuits.get(key) as Circuit;
    const now = this.now();
    if (circuit.trialUntil > now) return false;
    circuit.trialUntil = now + this.cooldownMs;
    return true;
  }

  /** The provider answered (whatever the answer is worth): the circuit closes. */
  succeeded(key: string): void {
    this.circuits.delete(key);
  }

  /** A call failed after its retries; a failed trial reopens at once. */
  failed(key: string): void {
    const circuit = this.circuits.get(key) ?? { failures: 0, openUntil: 0, trialUntil: 0 };
    const trial = circuit.openUntil !== 0;
    circuit.failures += 1;
    if (trial || circuit.failures >= this.threshold) {
      circuit.openUntil = this.now() + this.cooldownMs;
      circuit.trialUntil = 0;
      circuit.failures = 0;
    }
    this.circuits.set(key, circuit);
  }

  /** Every key with a failure or an open circuit, and its state (for the delegation stats). */
  snapshot(): Record<string, CircuitState> {
    const out: Record<string, CircuitState> = {};
    for (const key of this.circuits.keys()) out[key] = this.state(key);
    return out;
  }
}
