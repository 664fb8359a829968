// The CLI's entry point. `npm run build` compiles it to dist/bin/archibald.js, which the image runs
// with `node --enable-source-maps`; bin/archibald.js runs this file through tsx for development.
import process from 'node:process';
import { main } from '../runtime/cli/main.js';

process.exitCode = await main(process.argv);
