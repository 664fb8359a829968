/**
 * Validation of what a stack registers against the real schemas: Kubernetes objects with
 * kubernetes-models, custom resources against their CRDs' openAPIV3Schema, and Helm values against
 * the pinned charts' values.yaml (and values.schema.json).
 *
 * The charts and CRDs live outside the repository: ../shared/charts and ../shared/crds by default,
 * or the directories named by ARCHIBALD_CHARTS_DIR and ARCHIBALD_CRDS_DIR. Where neither exists the
 * tests that need them skip with a one-line reason (chartsSkip / crdsSkip), so a clone outside this
 * layout still passes.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments, parse } from 'yaml';
import { SHARED } from './harness.js';
import type { RegisteredResource } from './harness.js';

/** A directory of test inputs kept outside the repository, from its variable or ../shared. */
function externalInput(variable: string, sharedDir: string): { dir: string | undefined; reason: string } {
  const fromEnv = process.env[variable];
  const dir = fromEnv !== undefined && fromEnv !== '' ? fromEnv : `${SHARED}${sharedDir}`;
  const found = existsSync(dir);
  return {
    dir: found ? dir.replace(/\/?$/, '/') : undefined,
    reason: found
      ? ''
      : `no ${sharedDir} at ${dir}: set ${variable} to the pinned ${sharedDir} directory to run this check`,
  };
}

const CHARTS = externalInput('ARCHIBALD_CHARTS_DIR', 'charts');
const CRDS = externalInput('ARCHIBALD_CRDS_DIR', 'crds');

/** For node:test's `skip` option: false when the pinned charts are here, else why the test skips. */
export const chartsSkip: string | false = CHARTS.dir ? false : CHARTS.reason;
/** For node:test's `skip` option: false when the CRDs are here, else why the test skips. */
export const crdsSkip: string | false = CRDS.dir ? false : CRDS.reason;

function requireDir(input: { dir: string | undefined; reason: string }): string {
  if (!input.dir) throw new Error(input.reason);
  return input.dir;
}

// The models are loaded by require: the package has no exports map for ESM subpath imports.
const require = createRequire(import.meta.url);
// ajv-formats is CommonJS; under NodeNext its plugin function is the `default` property.
const addFormats = addFormatsModule.default;

/** Pulumi type token → the kubernetes-models module that holds its model class. */
export function modelModule(type: string): { module: string; kind: string } {
  const m = /^kubernetes:([^:]+):(\w+)$/.exec(type);
  if (!m) throw new Error(`not a Kubernetes type: ${type}`);
  const [, groupVersion, kind] = m as unknown as [string, string, string];
  const dir = groupVersion.startsWith('core/') ? groupVersion.slice('core/'.length) : groupVersion;
  return { module: `kubernetes-models/${dir}/${kind}`, kind };
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Validates a built-in Kubernetes object; returns the validation error message or undefined. */
export function validateKubernetesObject(r: RegisteredResource): string | undefined {
  const { module, kind } = modelModule(r.type);
  const loaded = require(module) as Record<string, ModelClass>;
  const Model = loaded[kind];
  if (!Model) throw new Error(`${module} has no ${kind}`);
  try {
    new Model(r.inputs).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * CRD patterns are Go (RE2) regular expressions; some use the inline flag `(?i)`, which
 * JavaScript lacks. Strip it and make the whole pattern case-insensitive instead.
 */
function goRegExp(pattern: string, flags: string): RegExp {
  return pattern.includes('(?i)')
    ? new RegExp(pattern.replaceAll('(?i)', ''), `${flags}i`)
    : new RegExp(pattern, flags);
}
goRegExp.code = 'goRegExp';

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { regExp: goRegExp } });
  addFormats(ajv);
  return ajv;
}

interface CrdVersion {
  name: string;
  schema?: { openAPIV3Schema?: object };
}

/** Validators for every CRD version in the CRD directory, keyed "group/version:Kind". */
export function loadCrdValidators(): Map<string, ValidateFunction> {
  const ajv = newAjv();
  const validators = new Map<string, ValidateFunction>();
  const dir = requireDir(CRDS);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(dir + file, 'utf8'))) {
      const crd = doc.toJS() as {
        kind?: string;
        spec?: { group: string; names: { kind: string }; versions: CrdVersion[] };
      } | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const version of crd.spec.versions) {
        const schema = version.schema?.openAPIV3Schema;
        if (schema)
          validators.set(`${crd.spec.group}/${version.name}:${crd.spec.names.kind}`, ajv.compile(schema));
      }
    }
  }
  return validators;
}

export function validateCustomResource(
  validators: Map<string, ValidateFunction>,
  r: RegisteredResource,
): string | undefined {
  const key = r.type.replace(/^kubernetes:/, '');
  const validate = validators.get(key);
  if (!validate) return `no CRD for ${key} in ${CRDS.dir ?? 'the CRD directory'}`;
  // The CRD schema describes the object as the API server stores it: apiVersion/kind/metadata/spec.
  if (validate(r.inputs)) return undefined;
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}

/** Chart name (as the Release names it) → folder in the charts directory. */
const CHART_DIRS: Record<string, string> = {
  'kube-prometheus-stack': 'kube-prometheus-stack',
  vault: 'vault',
  keda: 'keda',
  'cloudnative-pg': 'cloudnative-pg',
  karpenter: 'karpenter',
  'metrics-server': 'metrics-server',
  'aws-load-balancer-controller': 'aws-load-balancer-controller',
  'opentelemetry-collector': 'opentelemetry-collector',
  jaeger: 'jaeger',
};

/**
 * Pinned charts whose values are not in the charts directory, with why: their releases are
 * checked for being pinned, not key by key. Loki's chart is not in ../shared; the stacks set only
 * the keys of its documented monolithic install (stacks/components/observability.ts lokiValues).
 */
export const CHARTS_WITHOUT_LOCAL_VALUES: Readonly<Record<string, string>> = {
  loki: 'grafana/loki 6.29.0 is not in ../shared/charts',
};

/** The chart name of a Release's `chart` input: a plain name, or the last segment of an oci:// reference. */
export function chartName(chart: string): string {
  return chart.startsWith('oci://') ? (chart.split('/').pop() ?? chart) : chart;
}

/**
 * Keys of a subchart that the parent chart passes through but does not declare in its own
 * values.yaml. Only kube-prometheus-stack's grafana dependency (chart grafana 12.11.1, whose
 * values.yaml is not in ../shared) needs this; each entry is a key of that chart: declared in
 * its values.yaml (ingress.ingressClassName is declared there commented out, as in
 * kube-prometheus-stack's) or read by its templates (service.nodePort, templates/service.yaml).
 */
const SUBCHART_KEYS: Record<string, readonly string[]> = {
  'kube-prometheus-stack': [
    'grafana.sidecar.dashboards.folderAnnotation',
    'grafana.sidecar.dashboards.provider.foldersFromFilesStructure',
    'grafana.ingress.ingressClassName',
    'grafana.ingress.pathType',
    'grafana.service.type',
    'grafana.service.nodePort',
    'grafana.grafana.ini.server.root_url',
  ],
  // Keys the chart's own templates read that its values.yaml shows only as comments:
  // jaeger.resources (templates/jaeger/jaeger-deploy.yaml) and podDisruptionBudget.minAvailable
  // (opentelemetry-collector's templates/pdb.yaml).
  jaeger: ['jaeger.resources'],
  'opentelemetry-collector': ['podDisruptionBudget.minAvailable'],
};

/**
 * Values a chart hands to its program verbatim, so any key below them is the program's, not the
 * chart's: the collector's own configuration (values.schema.json types it as a free object).
 */
const FREE_FORM_VALUES: Record<string, readonly string[]> = {
  'opentelemetry-collector': ['config'],
};

export function chartDefaults(chart: string): {
  values: unknown;
  schema: object | undefined;
  version: string;
} {
  const dirName = CHART_DIRS[chart];
  if (!dirName) throw new Error(`no pinned chart for ${chart} in the charts directory`);
  const dir = `${requireDir(CHARTS)}${dirName}/`;
  const schemaFile = `${dir}values.schema.json`;
  return {
    values: parse(readFileSync(`${dir}values.yaml`, 'utf8')),
    schema: existsSync(schemaFile) ? (JSON.parse(readFileSync(schemaFile, 'utf8')) as object) : undefined,
    version: (parse(readFileSync(`${dir}Chart.yaml`, 'utf8')) as { version: string }).version,
  };
}

function isOpen(defaults: unknown): boolean {
  if (defaults === null || defaults === undefined) return true;
  if (Array.isArray(defaults)) return true;
  return typeof defaults === 'object' && Object.keys(defaults).length === 0;
}

/** Every leaf path set in `values` that the chart's values.yaml does not declare. */
export function unknownValuePaths(chart: string, values: unknown): string[] {
  const { values: defaults } = chartDefaults(chart);
  const allowed = new Set([...(SUBCHART_KEYS[chart] ?? []), ...(FREE_FORM_VALUES[chart] ?? [])]);
  const problems: string[] = [];
  // A map the parent chart does not declare at all (grafana."grafana.ini"): only the listed
  // subchart keys below it are accepted, not everything.
  const leadsToAllowed = (path: string): boolean => [...allowed].some((p) => p.startsWith(`${path}.`));
  const walkAllowedOnly = (set: unknown, path: string): void => {
    if (allowed.has(path)) return;
    if (set === null || typeof set !== 'object' || Array.isArray(set)) {
      problems.push(path);
      return;
    }
    for (const [key, value] of Object.entries(set as Record<string, unknown>)) {
      const child = `${path}.${key}`;
      if (allowed.has(child)) continue;
      if (leadsToAllowed(child)) walkAllowedOnly(value, child);
      else problems.push(child);
    }
  };
  const walk = (set: unknown, def: unknown, path: string): void => {
    if (allowed.has(path)) return;
    if (isOpen(def)) return; // free-form map, list or unset default: anything goes below
    if (set === null || typeof set !== 'object' || Array.isArray(set)) return; // a leaf the chart declares
    if (typeof def !== 'object') {
      problems.push(`${path} (chart default is a ${typeof def}, not a map)`);
      return;
    }
    for (const [key, value] of Object.entries(set as Record<string, unknown>)) {
      const child = path ? `${path}.${key}` : key;
      if (allowed.has(child)) continue;
      if (!(key in (def as Record<string, unknown>))) {
        if (leadsToAllowed(child)) walkAllowedOnly(value, child);
        else problems.push(child);
        continue;
      }
      walk(value, (def as Record<string, unknown>)[key], child);
    }
  };
  walk(values, defaults, '');
  return problems;
}

/**
 * Helm's coalescing of user values over the chart's defaults: maps merge key by key, anything
 * else replaces, and null removes the default's key.
 */
export function coalesceValues(defaults: unknown, values: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(defaults) || !isMap(values)) return values === undefined ? defaults : values;
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete merged[key];
    else merged[key] = coalesceValues(defaults[key], value);
  }
  return merged;
}

/**
 * Validates values against the chart's values.schema.json when it ships one. Helm validates the
 * values coalesced with the chart's defaults (a required key the defaults carry need not be set).
 */
export function valuesSchemaErrors(chart: string, values: unknown): string[] {
  const { schema, values: defaults } = chartDefaults(chart);
  if (!schema) return [];
  values = coalesceValues(defaults, values);
  // The charts declare "https://json-schema.org/draft-07/schema#", an alias ajv does not know.
  const { $schema: _declared, ...body } = schema as Record<string, unknown>;
  const validate = newAjv().compile(body);
  return validate(values)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
