import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { PINNED } from '../../stacks/tiers.js';
import { at, evaluateStack } from './harness.js';
import type { Evaluation } from './harness.js';
import {
  chartDefaults,
  chartName,
  CHARTS_WITHOUT_LOCAL_VALUES,
  chartsSkip,
  crdsSkip,
  loadCrdValidators,
  unknownValuePaths,
  validateCustomResource,
  validateKubernetesObject,
  valuesSchemaErrors,
} from './schemas.js';

/** API groups that come from CRDs (validated against the pinned CRDs), not the core schema. */
const CRD_GROUPS = [
  'keda.sh/',
  'monitoring.coreos.com/',
  'postgresql.cnpg.io/',
  'karpenter.sh/',
  'karpenter.k8s.aws/',
];

export function assertKubernetesObjectsValid(e: Evaluation): number {
  const objects = e.resources.filter(
    (r) =>
      r.type.startsWith('kubernetes:') &&
      r.type !== 'kubernetes:helm.sh/v3:Release' &&
      !CRD_GROUPS.some((g) => r.type.startsWith(`kubernetes:${g}`)),
  );
  const failures = objects
    .map((r) => [r, validateKubernetesObject(r)] as const)
    .filter(([, err]) => err !== undefined);
  assert.deepEqual(
    failures.map(([r, err]) => `${r.type} ${r.name}: ${err}`),
    [],
  );
  return objects.length;
}

export function assertCustomResourcesValid(e: Evaluation): number {
  const validators = loadCrdValidators();
  const custom = e.resources.filter((r) => CRD_GROUPS.some((g) => r.type.startsWith(`kubernetes:${g}`)));
  const failures = custom
    .map((r) => [r, validateCustomResource(validators, r)] as const)
    .filter(([, err]) => err !== undefined);
  assert.deepEqual(
    failures.map(([r, err]) => `${r.type} ${r.name}: ${err}`),
    [],
  );
  return custom.length;
}

const PINNED_CHARTS = Object.values(PINNED.charts);

export function assertHelmValuesReal(e: Evaluation): number {
  const releases = e.resources.filter((r) => r.type === 'kubernetes:helm.sh/v3:Release');
  for (const release of releases) {
    const chart = chartName(String(release.inputs.chart));
    const pinned = PINNED_CHARTS.find((c) => c.chart === chart);
    assert.ok(pinned, `${chart} is a pinned chart`);
    assert.equal(
      release.inputs.chart,
      pinned.repo.startsWith('oci://') ? `${pinned.repo}/${pinned.chart}` : pinned.chart,
      `${chart}: fetched from its pinned repository`,
    );
    if (!pinned.repo.startsWith('oci://'))
      assert.equal(at(release.inputs, 'repositoryOpts.repo'), pinned.repo, `${chart}: pinned repository`);
    else
      assert.equal(release.inputs.repositoryOpts, undefined, `${chart}: an OCI chart has no index to --repo`);
    assert.equal(release.inputs.version, pinned.version, `${chart} version pinned`);
    if (chart in CHARTS_WITHOUT_LOCAL_VALUES) continue;
    assert.equal(
      chartDefaults(chart).version,
      pinned.version,
      `${chart}: the charts directory holds the pinned version`,
    );
    assert.deepEqual(
      unknownValuePaths(chart, release.inputs.values),
      [],
      `${chart}: every value is a key of the chart`,
    );
    assert.deepEqual(
      valuesSchemaErrors(chart, release.inputs.values),
      [],
      `${chart}: values.schema.json accepts the values`,
    );
  }
  return releases.length;
}

/**
 * Registers the schema tests for one stack file (Pulumi's runtime is global: one stack per test
 * file). The minimum counts make sure the checks ran over real objects, not an empty inventory.
 */
export function schemaTests(stack: 'dev' | 'staging' | 'prod'): void {
  let e: Evaluation;
  before(async () => {
    e = await evaluateStack(stack);
  });

  test(`${stack}: every Kubernetes object validates against the Kubernetes schema`, () => {
    assert.ok(assertKubernetesObjectsValid(e) > 20);
  });
  test(`${stack}: every custom resource validates against its CRD`, { skip: crdsSkip }, () => {
    assert.ok(assertCustomResourcesValid(e) >= 6);
  });
  test(`${stack}: every Helm value is a real key of the pinned chart`, { skip: chartsSkip }, () => {
    assert.ok(assertHelmValuesReal(e) >= 3);
  });
}
