/**
 * A background pass the worker runs at start and then every `intervalSeconds` (the reconciler, the
 * delegation memory's retention): a pass still running when the next is due is not doubled, a
 * failed one is reported and the next one retries, and stop() waits for the pass in flight.
 */
export interface PeriodicPass<T> {
  intervalSeconds: number;
  run(): Promise<T>;
  done(result: T): void;
  failed(error: unknown): void;
}

export function startPeriodic<T>(pass: PeriodicPass<T>): { stop(): Promise<void> } {
  let current: Promise<void> | undefined;
  const tick = (): void => {
    if (current) return;
    current = pass
      .run()
      .then(
        (result) => pass.done(result),
        (error: unknown) => pass.failed(error),
      )
      .finally(() => {
        current = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, pass.intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
