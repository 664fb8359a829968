/**
 * The standard OTEL_* variables the stacks and the compose file pass for the runtime's OpenTelemetry SDK (issue 14),
 * which runtime/config/schema.ts does not list yet: the tracing change adds them there. Remove
 * this list when it merges, so every name is checked against the schema again.
 */
export const OTEL_VARIABLES_PENDING_RUNTIME_SCHEMA: readonly string[] = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_RESOURCE_ATTRIBUTES',
];
