// The CLI's entry point. `npm run build` compiles it to dist/bin/archibald.js, which the image runs
// with `node --enable-source-maps`; bin/archibald.js runs this file through tsx for development.
//
// Tracing starts first, and the CLI is imported only after it: its instrumentations must be in
// place before fastify, pg and ioredis load. With no OTEL_EXPORTER_OTLP_ENDPOINT nothing starts.
import process from 'node:process';
import { startTracing } from '../runtime/telemetry/start.js';

const tracing = await startTracing(process.argv[2]);
const { main } = await import('../runtime/cli/main.js');
try {
  process.exitCode = await main(process.argv);
} finally {
  // After the command's own graceful shutdown (SIGTERM), so the spans of its last work go out too.
  await tracing?.shutdown().catch((error: unknown) => console.error('archibald: tracing shutdown:', error));
}
