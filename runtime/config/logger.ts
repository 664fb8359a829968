/**
 * The process logger: pino JSON lines on stdout, with role and version, secrets redacted.
 *
 * `asynchronous: true` (the API) names the asynchronous destination explicitly (pino's default
 * stdout destination is already a SonicBoom with sync: false: lines are batched and written with
 * fs.write while the event loop goes on; profiled, about 3-5% of the API's busy time, while the
 * `writev` at the top of its profile is socket writes: responses, Postgres and Redis). Nothing is
 * lost at the end: `flushLogger` is awaited on close (SIGTERM), and pino flushes synchronously on
 * process exit too.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Config } from './load.js';

/**
 * The field of a log line, and the exemplar label of a latency observation, that carries its trace
 * id (Prometheus' convention); Grafana's datasources link either to the trace.
 */
export const TRACE_ID_LABEL = 'trace_id';

/** The active span's ids on each line, so a log line leads to its trace (and back). */
function traceIds(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { [TRACE_ID_LABEL]: spanContext.traceId, span_id: spanContext.spanId };
}

export function createLogger(
  config: Pick<Config, 'logLevel' | 'version' | 'tracing'>,
  role: string,
  options: { asynchronous?: boolean } = {},
): Logger {
  const settings = {
    level: config.logLevel,
    base: { role, version: config.version },
    redact: {
      paths: ['req.headers.authorization', '*.password', 'password', '*.apiKey'],
      censor: '[secret]',
    },
    // Only when tracing is on: without it there is never a span, and the mixin would be a cost.
    ...(config.tracing ? { mixin: traceIds } : {}),
  };
  return options.asynchronous ? pino(settings, pino.destination({ dest: 1, sync: false })) : pino(settings);
}

/** Writes out whatever the logger still holds; resolves when it is written. */
export function flushLogger(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      log.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
