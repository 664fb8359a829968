/**
 * One HTTP call to a paid provider (ElevenLabs, FAL), with the rules every provider call follows:
 *
 * - The job's signal aborts the request in flight and any wait between attempts.
 * - Each attempt has its own timeout, covering the answer's body too (a stalled download counts).
 * - 408, 409, 429, 5xx and connection errors are retried with exponential backoff and jitter; a
 *   `retry-after` (seconds or an HTTP date) replaces the backoff. (`retry-after-ms` is Anthropic's
 *   and OpenAI's, whose SDKs read it themselves; ElevenLabs and FAL send `retry-after`.) A wait
 *   the provider asks for beyond `maxRetryAfterMs` ends the retries: the offline fallback is
 *   quicker than holding the job that long.
 * - Other statuses fail at once (a bad key or request does not get better by repeating it).
 * - With `retryAfterSend: false` (a call that makes and bills something each time it is processed,
 *   such as a FAL generation), only failures that show the request was not processed are retried:
 *   a connection refused, or a 408/409/429/5xx status. A timeout, a dropped connection or a body
 *   cut short after a 200 may follow a billed answer, so it fails at once rather than paying twice
 *   while recording once. An aborted request in flight may still be billed by the provider.
 *
 * Errors carry the status, never the request or the provider's body: either may hold the topic.
 */

export interface HttpCallOptions {
  /** The job's signal. */
  signal: AbortSignal;
  /** Per attempt, including reading the body, in milliseconds. */
  timeoutMs: number;
  /** Attempts after the first (default 2). */
  maxRetries?: number;
  /** First backoff, doubled per retry (default 500 ms). */
  baseDelayMs?: number;
  /** Longest backoff of our own (default 8 s). */
  maxDelayMs?: number;
  /** Longest wait a retry-after may ask for before we give up instead (default 30 s). */
  maxRetryAfterMs?: number;
  /**
   * Whether a request that may have been processed (timeout, connection lost after sending, body
   * cut short) is retried (default true). False for calls that bill per request sent.
   */
  retryAfterSend?: boolean;
}

export interface HttpCallResult<T> {
  value: T;
  /** Requests made, the successful one included. */
  attempts: number;
}

/** A provider call that failed for good: after its retries, or with a status not worth retrying. */
export class ProviderHttpError extends Error {
  constructor(
    message: string,
    /** The last HTTP status, or undefined when no answer came (connection error, timeout). */
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'ProviderHttpError';
  }
}

const RETRYABLE = new Set([408, 409, 429]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE.has(status) || status >= 500;
}

/** Milliseconds a response asks the client to wait, from `retry-after`. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Sends the request and reads the answer with `read` (JSON, bytes) inside the same attempt, so a
 * body cut short is retried like a failed request.
 */
export async function httpCall<T>(
  url: string,
  init: RequestInit,
  read: (response: Response) => Promise<T>,
  options: HttpCallOptions,
): Promise<HttpCallResult<T>> {
  const maxRetries = options.maxRetries ?? 2;
  const baseDelay = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 8000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    let status: number | undefined;
    let wait: number | undefined;
    let reason: string;
    const attemptSignal = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]);
    try {
      const response = await fetch(url, { ...init, signal: attemptSignal });
      if (response.ok) return { value: await read(response), attempts: attempt };
      status = response.status;
      wait = retryAfterMs(response.headers);
      // Drain the body so the connection can be reused; its content is not kept (see above).
      await response.arrayBuffer().catch(() => undefined);
      reason = `HTTP ${status}`;
      if (!isRetryableStatus(status)) throw new ProviderHttpError(reason, status, attempt);
    } catch (error) {
      if (error instanceof ProviderHttpError) throw error;
      if (signal.aborted) throw signal.reason ?? error;
      reason =
        attemptSignal.aborted && !signal.aborted
          ? `no answer within ${options.timeoutMs} ms`
          : `request failed (${(error as Error).name}: ${(error as Error).message})`;
      // A body that failed to parse after a 200 is not a transport error.
      if (status === undefined && error instanceof SyntaxError)
        throw new ProviderHttpError(`unreadable answer (${error.message})`, 200, attempt);
      if (options.retryAfterSend === false && !notSent(error))
        throw new ProviderHttpError(`${reason}; not retried: it may have been processed`, status, attempt);
    }
    if (attempt > maxRetries) {
      throw new ProviderHttpError(`${reason} after ${attempt} attempts`, status, attempt);
    }
    if (wait !== undefined && wait > maxRetryAfter) {
      throw new ProviderHttpError(
        `${reason}; the provider asked to wait ${Math.round(wait / 1000)} s`,
        status,
        attempt,
      );
    }
    const backoff = Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
    await sleep(wait ?? backoff * (0.75 + Math.random() * 0.5), signal);
  }
}

/** Connection errors that show the request never reached the server (nothing can have been billed). */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function notSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' && NOT_SENT.has(cause.code);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
