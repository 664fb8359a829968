import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPool } from '../../runtime/providers/pool.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      // Stopping takes a moment (a killed ffmpeg, a closed socket): the pool must wait for it.
      setTimeout(() => reject(signal.reason as Error), 30);
    });
  });

test('the first failure aborts the tasks in flight, starts no more, and is thrown once all have stopped', async () => {
  const started: number[] = [];
  const stopped: number[] = [];
  const failure = new Error('line 1 failed');
  const error = await runPool(10, 3, new AbortController().signal, async (i, signal) => {
    started.push(i);
    try {
      if (i === 1) throw failure;
      await sleep(5_000, signal);
    } finally {
      stopped.push(i);
    }
  }).catch((e: unknown) => e);
  assert.equal(error, failure);
  assert.deepEqual(started.sort(), [0, 1, 2], 'no task starts after the failure');
  assert.deepEqual(stopped.sort(), [0, 1, 2], 'every task had stopped when the pool threw');
});

test("the job's abort is thrown as its own reason", async () => {
  const job = new AbortController();
  const reason = new Error('cancelled');
  setTimeout(() => job.abort(reason), 20);
  await assert.rejects(
    runPool(4, 2, job.signal, (_i, signal) => sleep(5_000, signal)),
    (e) => e === reason,
  );
});

test('every task runs, at most `concurrency` at once', async () => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  await runPool(7, 3, new AbortController().signal, async (i, signal) => {
    running += 1;
    most = Math.max(most, running);
    await sleep(5, signal);
    running -= 1;
    done.push(i);
  });
  assert.equal(most, 3);
  assert.deepEqual(
    done.sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6],
  );
});
