#!/usr/bin/env node
// Development launcher: runs the TypeScript CLI (bin/archibald.ts) through tsx, resolved from this
// package, so it works from any directory. tsx is a dev dependency; the image runs the compiled
// dist/bin/archibald.js instead (npm run build, runtime/Dockerfile).
import { register } from 'tsx/esm/api';

register();
await import('./archibald.ts');
