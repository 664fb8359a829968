import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const RUNTIME = fileURLToPath(new URL('../../runtime/', import.meta.url));

/**
 * The runtime's layers, lowest first; a module may import its own layer and the ones below it.
 * Each entry lists path prefixes under runtime/ (the most specific prefix wins).
 */
const LAYERS: ReadonlyArray<readonly [layer: string, prefixes: readonly string[]]> = [
  ['config', ['config/']],
  // OpenTelemetry: its start (before anything it instruments loads) and the spans every layer above
  // records through @opentelemetry/api.
  ['telemetry', ['telemetry/']],
  // The contracts everything shares: the video request and the stage interface, the metric
  // catalog, the HTTP error type; and the request schemas and their validator, which the CLI uses too.
  ['contract', ['pipeline/stage.ts', 'contract/', 'http-error.ts', 'api/schemas.ts', 'api/validation.ts']],
  // providers/: what every paid provider shares (HTTP retries, circuit breaker, events, prices).
  ['media, storage, metrics, providers', ['media/', 'storage/', 'metrics/', 'providers/']],
  ['stages', ['stages/']],
  ['pipeline composition', ['pipeline/']],
  ['db, queue', ['db/', 'queue/']],
  ['security', ['security/']],
  ['api, worker, render', ['api/', 'worker/', 'render/']],
  ['cli', ['cli/']],
];

/**
 * Beside the order: the worker runs whatever stages it is given and knows them only through the
 * pipeline contract, never a stage module.
 */
const FORBIDDEN: ReadonlyArray<readonly [from: string, to: string, why: string]> = [
  ['worker/', 'stages/', 'the worker knows stages only through the pipeline contract'],
];

function layerOf(path: string): number {
  let best: { index: number; length: number } | undefined;
  LAYERS.forEach(([, prefixes], index) => {
    for (const prefix of prefixes)
      if (path.startsWith(prefix) && (!best || prefix.length > best.length))
        best = { index, length: prefix.length };
  });
  assert.ok(best, `runtime/${path} is in no layer: add it to LAYERS`);
  return best.index;
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every relative import (static, dynamic, type-only, re-export) of every runtime module. */
async function runtimeImports(): Promise<Array<{ from: string; to: string }>> {
  const edges: Array<{ from: string; to: string }> = [];
  for (const file of await sources(RUNTIME)) {
    const info = ts.preProcessFile(await readFile(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), fileName).replace(/\.js$/, '.ts');
      edges.push({ from: relative(RUNTIME, file), to: relative(RUNTIME, target) });
    }
  }
  return edges;
}

test('runtime modules import only their own layer and the layers below it', async () => {
  const edges = await runtimeImports();
  assert.ok(edges.length > 100, `found only ${edges.length} imports`);
  const upward = edges
    .filter(({ from, to }) => layerOf(to) > layerOf(from))
    .map(
      ({ from, to }) => `${from} (${LAYERS[layerOf(from)]?.[0]}) imports ${to} (${LAYERS[layerOf(to)]?.[0]})`,
    );
  assert.deepEqual(upward, [], `imports up the layers:\n${upward.join('\n')}`);
});

test('the worker reaches the stages only through the pipeline contract', async () => {
  const broken = (await runtimeImports()).flatMap(({ from, to }) =>
    FORBIDDEN.filter(([a, b]) => from.startsWith(a) && to.startsWith(b)).map(
      ([, , why]) => `${from} imports ${to}: ${why}`,
    ),
  );
  assert.deepEqual(broken, []);
});

test('only runtime/config reads the environment; every other module gets a Config', async () => {
  const readers: string[] = [];
  for (const file of await sources(RUNTIME)) {
    const path = relative(RUNTIME, file);
    if (!path.startsWith('config/') && /\bprocess\.env\b/.test(await readFile(file, 'utf8')))
      readers.push(path);
  }
  assert.deepEqual(readers, []);
});
