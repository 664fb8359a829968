/** `npm run compose`: writes the single-node deployment's files into deploy/compose/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPOSE_DIR, renderSingleNode } from './render.js';

const files = renderSingleNode();
for (const [name, content] of files) {
  const path = join(COMPOSE_DIR, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
console.log(`wrote ${files.size} files to ${COMPOSE_DIR}/: ${[...files.keys()].join(', ')}`);
