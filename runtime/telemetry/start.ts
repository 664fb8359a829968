/**
 * Starts tracing for a process, or does nothing at all. The entry point (bin/archibald.ts) calls it
 * before it imports the rest of the runtime, because the instrumentations must be in place before
 * fastify, pg and ioredis load. Without OTEL_EXPORTER_OTLP_ENDPOINT the SDK is not even imported:
 * the runtime's spans then go to @opentelemetry/api's no-op tracer, and tracing costs nothing.
 */
import { loadTracingConfig } from '../config/load.js';
import type { TracingConfig } from '../config/load.js';

export interface Tracing {
  /** Exports the spans still buffered and stops the SDK; awaited after the process's own shutdown. */
  shutdown(): Promise<void>;
}

/** The long-running commands that trace, and the service name each gets by default. */
const TRACED_COMMANDS: Readonly<Record<string, string>> = {
  serve: 'archibald-api',
  worker: 'archibald-worker',
};

export async function startTracing(
  command: string | undefined,
  config: TracingConfig | undefined = loadTracingConfig(),
): Promise<Tracing | undefined> {
  const serviceName = command === undefined ? undefined : TRACED_COMMANDS[command];
  if (!serviceName || !config) return undefined;
  const { startSdk } = await import('./sdk.js');
  return startSdk(config, serviceName);
}
