/**
 * The runtime's own spans, through @opentelemetry/api only: without the SDK (tracing off) every
 * call here is the API's no-op, so instrumented code needs no "is tracing on" branch.
 *
 * Attributes name what ran (stage, model, program, filters), never what the user wrote: no topic,
 * no script text, no file content, no key.
 */
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, context, propagation, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanKind } from '@opentelemetry/api';
import { TRACE_ID_LABEL } from '../config/logger.js';

const tracer = trace.getTracer('archibald');

export interface InSpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** The parent's context (a carrier's); default: the active span. */
  parent?: Context;
  /** `fn` sets the status itself (not every throw is a failure, e.g. a cancelled job). */
  statusByCaller?: boolean;
}

/** Runs `fn` in a new active span and ends it; a throw marks it failed unless statusByCaller. */
export async function inSpan<T>(
  name: string,
  options: InSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const { parent, statusByCaller, ...spanOptions } = options;
  return tracer.startActiveSpan(name, spanOptions, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      if (!statusByCaller) failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed: status ERROR with `message` (default: the error's), and the exception. */
export function failSpan(span: Span, error: unknown, message?: string): void {
  const text = message ?? (error instanceof Error ? error.message : String(error));
  span.recordException(error instanceof Error ? error : new Error(text));
  span.setStatus({ code: SpanStatusCode.ERROR, message: text });
}

/** W3C trace context of the active span, to carry across the queue; undefined when not tracing. */
export function traceCarrier(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The context a carrier names (the enqueuer's span), to continue its trace. */
export function contextFromCarrier(carrier: Record<string, string> | undefined): Context {
  return carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/**
 * Exemplar labels for the active span's trace (Prometheus' convention: trace_id), when that trace is
 * sampled, so exported. The span itself may have ended (an HTTP request's, by its onResponse hook).
 */
export function traceExemplar(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0
    ? { [TRACE_ID_LABEL]: spanContext.traceId }
    : {};
}
