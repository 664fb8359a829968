/**
 * A circuit breaker per model (or any provider endpoint): after `failures` consecutive failed
 * calls the model is skipped for `cooldownMs`; the first call after the cool-down is a trial, and
 * one answer closes the circuit again. Skipping a failing provider for a while spares each video
 * the timeouts and retries a dead provider would cost it, and spares the provider the load.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a circuit (default 3). */
  failures?: number;
  /** How long an open circuit skips its key, in milliseconds (default 60 000). */
  cooldownMs?: number;
  now?: () => number;
}

interface Circuit {
  failures: number;
  openUntil: number;
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

  /** Whether a call to this key should be skipped now. */
  isOpen(key: string): boolean {
    return this.state(key) === 'open';
  }

  /** The provider answered (whatever the answer is worth): the circuit closes. */
  succeeded(key: string): void {
    this.circuits.delete(key);
  }

  /** A call failed after its retries; a failed trial reopens at once. */
  failed(key: string): void {
    const circuit = this.circuits.get(key) ?? { failures: 0, openUntil: 0 };
    const trial = circuit.openUntil !== 0;
    circuit.failures += 1;
    if (trial || circuit.failures >= this.threshold) {
      circuit.openUntil = this.now() + this.cooldownMs;
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
