import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../../stacks/config.js';
import { REPO_ROOT } from './harness.js';

interface Declaration {
  type: string;
  items?: { type: string };
  description?: string;
  default?: unknown;
}
const project = parse(readFileSync(`${REPO_ROOT}Pulumi.yaml`, 'utf8')) as {
  name: string;
  runtime: { name: string; options: Record<string, unknown> };
  main: string;
  config: Record<string, Declaration>;
};
const SECRET_KEYS = ['pagerDutyRoutingKey', 'slackWebhookUrl', 'anthropicApiKey', 'vaultToken'];

test('the project runs the TypeScript ESM program in stacks/ through tsx', () => {
  assert.equal(project.name, 'archibald');
  assert.equal(project.runtime.name, 'nodejs');
  assert.deepEqual(project.runtime.options, { typescript: false, nodeargs: '--import tsx' });
  assert.equal(project.main, 'stacks/');
  assert.ok(existsSync(`${REPO_ROOT}stacks/index.ts`), 'the entry point Pulumi loads from main');
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { type: string };
  assert.equal(pkg.type, 'module');
});

test('every key the program reads is declared with a type and a description', () => {
  for (const key of [...CONFIG_KEYS, ...SECRET_KEYS]) {
    const d = project.config[key];
    assert.ok(d, `${key} declared in Pulumi.yaml`);
    assert.ok(['string', 'boolean', 'integer', 'array'].includes(d.type), `${key} has a type`);
    if (d.type === 'array') assert.equal(d.items?.type, 'string', `${key} is a list of strings`);
    assert.ok((d.description ?? '').length > 10, `${key} has a description`);
  }
  for (const key of SECRET_KEYS)
    assert.equal(project.config[key]?.default, '', `${key} has no value in the repository`);
});

test('stack files set only declared keys, never a secret, and only what differs', () => {
  for (const stack of ['dev', 'staging', 'prod']) {
    const file = parse(readFileSync(`${REPO_ROOT}Pulumi.${stack}.yaml`, 'utf8')) as {
      config: Record<string, unknown>;
    };
    for (const [fullKey, value] of Object.entries(file.config)) {
      const [namespace, key] = fullKey.split(':') as [string, string];
      assert.equal(namespace, 'archibald', `${stack}: ${fullKey} is a project key`);
      assert.ok(project.config[key], `${stack}: ${key} is declared`);
      assert.ok(
        !SECRET_KEYS.includes(key),
        `${stack}: ${key} is a secret and belongs in encrypted stack config`,
      );
      assert.notDeepEqual(
        value,
        project.config[key]?.default,
        `${stack}: ${key} repeats the project default`,
      );
    }
  }
});
