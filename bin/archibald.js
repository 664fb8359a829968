#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, resolved from this package, so it works from any directory.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../runtime/cli/main.ts');
process.exitCode = await main(process.argv);
