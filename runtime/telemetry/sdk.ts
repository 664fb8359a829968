/**
 * The OpenTelemetry Node SDK with the runtime's instrumentations. Loaded only when tracing is on
 * (start.ts). The SDK reads the standard OTEL_* variables itself (exporter protocol and endpoint,
 * sampler, resource attributes); runtime/config has validated them already.
 */
import { register } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { TracingConfig } from '../config/load.js';
import type { Tracing } from './start.js';

/**
 * The runtime imports pg and ioredis as ES modules, which require-in-the-middle never sees, so
 * import-in-the-middle's loader hook wraps them. Only these: every other import skips the hook.
 * fastify (its 'fastify.initialization' channel) and undici (fetch, so the Anthropic SDK's calls)
 * are traced through diagnostics_channel and need no hook.
 */
const HOOKED_MODULES = ['pg', 'pg-pool', 'ioredis'];

/** Probes and scrapes would be most of the API's spans and tell nothing about a video. */
const UNTRACED_ROUTES = new Set(['/health', '/ready']);

export function startSdk(config: TracingConfig, defaultServiceName: string): Tracing {
  register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: HOOKED_MODULES } });
  const named =
    config.serviceName !== undefined || /(^|,)\s*service\.name=/.test(config.resourceAttributes ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: defaultServiceName }),
    instrumentations: [
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        ignorePaths: (route: { url: string }) => UNTRACED_ROUTES.has(route.url.split('?')[0] ?? ''),
        // One server span per request, with Postgres and Redis under it. The per-hook and handler
        // spans would be named after anonymous plugins, that is their source text.
        instrumentHooks: false,
        instrumentHandler: false,
        // HTTP semantic conventions name a server span "{method} {route}" (the plugin: "request").
        requestHook: (span, request) => {
          const route = request.routeOptions.url;
          span.updateName(route ? `${request.method} ${route}` : request.method);
        },
      }),
      // Only inside a request or a job: BullMQ's polling and lock renewals would otherwise be a
      // root span every few seconds per worker.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command only: its arguments are keys (a client's address), BullMQ's job data, results
        // and failure messages, and whole Lua scripts.
        dbStatementSerializer: (command) => command,
      }),
      new UndiciInstrumentation(),
    ],
    // Metrics stay on the Prometheus /metrics endpoints and logs on stdout; only traces use OTLP.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
