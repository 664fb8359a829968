/**
 * Runs `count` tasks, `concurrency` at a time, for the paid calls of one video (narration lines,
 * stills). The first failure aborts the others' signal at once rather than paying for work that
 * will be thrown away, and is what the pool throws; the job's own abort is thrown as its reason.
 * The pool returns only once every task has stopped, so no task still writes into the job's files
 * (or the cache) while its caller falls back.
 */
export async function runPool(
  count: number,
  concurrency: number,
  signal: AbortSignal,
  task: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const shared = AbortSignal.any([signal, controller.signal]);
  let next = 0;
  const worker = async () => {
    while (next < count && !shared.aborted) {
      const index = next++;
      await task(index, shared);
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(Math.max(1, concurrency), count) }, () =>
      worker().catch((error: unknown) => {
        controller.abort(error);
        throw error;
      }),
    ),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return;
  if (signal.aborted) throw signal.reason ?? failed.reason;
  throw controller.signal.reason ?? failed.reason;
}
