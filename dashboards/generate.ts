/** `npm run dashboards`: writes the generated dashboards and rules into dashboards/generated/. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DIR, renderArtifacts } from './artifacts.js';

const files = renderArtifacts();
mkdirSync(GENERATED_DIR, { recursive: true });
// A renamed dashboard must not leave its old file behind.
for (const name of readdirSync(GENERATED_DIR)) {
  if (!files.has(name)) rmSync(join(GENERATED_DIR, name));
}
for (const [name, content] of files) writeFileSync(join(GENERATED_DIR, name), content);
console.log(`wrote ${files.size} files to ${GENERATED_DIR}/: ${[...files.keys()].join(', ')}`);
