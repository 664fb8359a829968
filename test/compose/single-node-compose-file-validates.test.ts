import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { GENERATED_DIR, RULES_FILE } from '../../dashboards/artifacts.js';
import { DATASOURCE_UIDS, TRACE_ID_LABEL } from '../../dashboards/datasources.js';
import {
  COMPOSE_FILE,
  SECRETS,
  composeCpus,
  composeMemory,
  grafanaDatasources,
  renderSingleNode,
  singleNodeTier,
} from '../../deploy/compose/render.js';
import { configVariableNames } from '../../runtime/config/schema.js';
import { runTool } from '../dashboards/run-tool.js';
import { loadWithRuntimeLoader } from '../stacks/runtime-config.js';

interface Service {
  environment?: Record<string, string>;
  secrets?: { source: string; target?: string }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { resources?: { limits?: { cpus: string | number; memory: string } } };
}
interface Compose {
  services: Record<string, Service>;
  secrets: Record<string, { file?: string; environment?: string }>;
}

const RUNTIME_SERVICES = ['api', 'worker', 'migrate'];
const tier = singleNodeTier();
let dir: string;
let resolved: Compose;

/** `docker-compose config` over the rendered files in a scratch copy of deploy/compose/. */
async function composeConfig(composeYaml: string): Promise<{ code: number; stdout: string; stderr: string }> {
  writeFileSync(join(dir, COMPOSE_FILE), composeYaml);
  // Interpolation with only the file's own defaults: no ARCHIBALD_* from the test's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARCHIBALD_')));
  return runTool(
    'env',
    [
      '-i',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      'docker-compose',
      '-f',
      COMPOSE_FILE,
      'config',
    ],
    dir,
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'archibald-compose-'));
  for (const [name, content] of renderSingleNode()) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const result = await composeConfig(renderSingleNode().get(COMPOSE_FILE) as string);
  assert.equal(result.code, 0, `docker-compose config failed:\n${result.stderr}`);
  resolved = parse(result.stdout) as Compose;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('docker-compose accepts the compose file, and rejects one that breaks the specification', async () => {
  assert.ok(Object.keys(resolved.services).length >= 10);
  const broken = (renderSingleNode().get(COMPOSE_FILE) as string).replace(
    'condition: service_completed_successfully',
    'condition: service_finished',
  );
  const result = await composeConfig(broken);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /service_finished/);
});

test('every variable the compose file passes to the runtime is one its config schema knows', () => {
  const known = new Set<string>(configVariableNames);
  for (const name of RUNTIME_SERVICES) {
    const env = resolved.services[name]?.environment ?? {};
    for (const key of Object.keys(env))
      assert.ok(known.has(key), `${name}: ${key} is a runtime config variable`);
    // The runtime's own loader takes the interpolated environment (secret files stood in for).
    const config = loadWithRuntimeLoader(env);
    assert.equal(config.migrateOnStart, false, `${name}: the migrate service owns migrations`);
  }
  const worker = resolved.services.worker?.environment ?? {};
  assert.equal(worker.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://otel-collector:4318');
  assert.equal(worker.OTEL_SERVICE_NAME, 'archibald-worker');
  assert.equal(worker.OTEL_TRACES_SAMPLER, 'parentbased_always_on', 'the smallest tier keeps every trace');
});

test('secrets come from files: never inline, each mounted where its *_FILE variable points', () => {
  for (const [name, secret] of Object.entries(resolved.secrets)) {
    assert.ok(secret.file, `${name} is a file`);
    assert.equal(secret.environment, undefined);
  }
  assert.deepEqual(Object.keys(resolved.secrets).sort(), Object.values(SECRETS).sort());
  for (const [name, service] of Object.entries(resolved.services)) {
    const mounted = new Set((service.secrets ?? []).map((s) => `/run/secrets/${s.target ?? s.source}`));
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      assert.ok(!/(PASSWORD|_KEY|TOKEN|WEBHOOK)$/.test(key), `${name}: ${key} would carry a secret inline`);
      if (key.endsWith('_FILE') || key.endsWith('__FILE'))
        assert.ok(mounted.has(value), `${name}: ${key} points at a mounted secret (${value})`);
    }
  }
});

test('start order: the runtime waits for migrations and healthy data stores', () => {
  for (const name of ['api', 'worker']) {
    const deps = resolved.services[name]?.depends_on ?? {};
    assert.equal(deps.migrate?.condition, 'service_completed_successfully', `${name} after migrations`);
    assert.equal(deps.postgres?.condition, 'service_healthy');
    assert.equal(deps.redis?.condition, 'service_healthy');
  }
  assert.equal(resolved.services.migrate?.depends_on?.postgres?.condition, 'service_healthy');
  for (const [name, service] of Object.entries(resolved.services)) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      if (condition === 'service_healthy')
        assert.ok(
          resolved.services[dependency]?.healthcheck,
          `${name} waits on ${dependency}'s health check`,
        );
    }
  }
});

test('resource limits come from the smallest tier of the tier table', () => {
  assert.equal(tier.scale.name, 'low');
  const limits = (name: string) => resolved.services[name]?.deploy?.resources?.limits;
  const expected = {
    api: tier.api.limits,
    worker: tier.worker.limits,
    postgres: tier.containers.postgres.limits,
    redis: tier.containers.redis.limits,
    'otel-collector': tier.tracing.collector.limits,
    jaeger: tier.tracing.jaeger.limits,
    prometheus: tier.containers.prometheus.limits,
  };
  for (const [name, l] of Object.entries(expected)) {
    assert.equal(Number(limits(name)?.cpus), Number(composeCpus(l.cpu)), `${name} CPUs`);
    assert.equal(limits(name)?.memory, composeMemory(l.memory), `${name} memory`);
  }
  assert.equal(composeCpus('500m'), '0.5');
  assert.equal(composeMemory('2Gi'), '2g');
});

test('promtool accepts the Prometheus config with the generated rules', async () => {
  mkdirSync(join(dir, 'prometheus', 'rules'), { recursive: true });
  copyFileSync(
    join(import.meta.dirname, '..', '..', GENERATED_DIR, RULES_FILE),
    join(dir, 'prometheus', 'rules', RULES_FILE),
  );
  const result = await runTool('promtool', ['check', 'config', join(dir, 'prometheus', 'prometheus.yml')]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS: 1 rule files found/);
});

test('amtool accepts the Alertmanager config, whose receivers read their secrets from files', async () => {
  const result = await runTool('amtool', ['check-config', join(dir, 'alertmanager', 'alertmanager.yml')]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const config = parse(renderSingleNode().get('alertmanager/alertmanager.yml') as string) as {
    receivers: { pagerduty_configs?: object[]; slack_configs?: object[] }[];
  };
  const receivers = JSON.stringify(config.receivers);
  assert.match(receivers, /routing_key_file/);
  assert.match(receivers, /api_url_file/);
  assert.doesNotMatch(receivers, /"routing_key"|"api_url"/);
});

test("Grafana's Prometheus datasource links exemplars to the Jaeger datasource", () => {
  const { datasources } = grafanaDatasources() as {
    datasources: { uid: string; jsonData?: { exemplarTraceIdDestinations?: object[] } }[];
  };
  const prometheus = datasources.find((d) => d.uid === DATASOURCE_UIDS.prometheus);
  assert.deepEqual(prometheus?.jsonData?.exemplarTraceIdDestinations, [
    { name: TRACE_ID_LABEL, datasourceUid: DATASOURCE_UIDS.jaeger, urlDisplayLabel: 'View trace' },
  ]);
  assert.ok(datasources.some((d) => d.uid === DATASOURCE_UIDS.jaeger));
});
