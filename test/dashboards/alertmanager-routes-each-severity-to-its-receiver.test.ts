import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildAlertmanagerConfig, CHAT_RECEIVER, PAGER_RECEIVER } from '../../dashboards/index.js';
import { alertDefinitions } from '../../dashboards/rules/alerts.js';
import { runTool } from './run-tool.js';

// Obviously fake receiver secrets: the real ones come from the stack's secrets.
const fakeReceivers = {
  pagerDutyRoutingKey: 'FAKE-routing-key-for-tests-only',
  slackWebhookUrl: 'https://hooks.slack.invalid/services/FAKE/FAKE/fake-for-tests-only',
  slackChannel: '#archibald-alerts-test',
};

const dir = mkdtempSync(join(tmpdir(), 'archibald-amtool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const configFile = join(dir, 'alertmanager.yaml');
writeFileSync(configFile, stringify(buildAlertmanagerConfig(fakeReceivers)));

async function receiverFor(labels: Record<string, string>): Promise<string> {
  const args = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const result = await runTool('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${configFile}`,
    ...args,
  ]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return result.stdout.trim();
}

test('amtool check-config accepts the rendered configuration', async () => {
  const result = await runTool('amtool', ['check-config', configFile]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SUCCESS/);
  assert.match(result.stdout, /2 receivers/);
  assert.match(result.stdout, /1 inhibit rules/);
});

test('every critical alert pages and every warning goes to chat', async () => {
  for (const rule of alertDefinitions) {
    const expected = rule.labels.severity === 'critical' ? PAGER_RECEIVER : CHAT_RECEIVER;
    const labels = { alertname: rule.alert, severity: rule.labels.severity, namespace: 'archibald' };
    assert.equal(await receiverFor(labels), expected, `${rule.alert} (${rule.labels.severity})`);
  }
});

test('an alert without a known severity still reaches chat', async () => {
  assert.equal(await receiverFor({ alertname: 'Watchdog' }), CHAT_RECEIVER);
  assert.equal(await receiverFor({ alertname: 'Something', severity: 'info' }), CHAT_RECEIVER);
});

test('the receivers carry the secrets they were given', () => {
  const yaml = stringify(buildAlertmanagerConfig(fakeReceivers));
  assert.ok(yaml.includes(fakeReceivers.pagerDutyRoutingKey));
  assert.ok(yaml.includes(fakeReceivers.slackWebhookUrl));
  assert.ok(yaml.includes(fakeReceivers.slackChannel));
});

test('a firing critical inhibits the warning of the same alert and deployment', () => {
  const config = buildAlertmanagerConfig(fakeReceivers) as {
    inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal: string[] }>;
  };
  assert.deepEqual(config.inhibit_rules, [
    {
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ['alertname', 'namespace', 'job'],
    },
  ]);
});

test('missing or malformed receiver settings are refused with the setting named', () => {
  assert.throws(
    () => buildAlertmanagerConfig({ ...fakeReceivers, pagerDutyRoutingKey: ' ' }),
    /pagerDutyRoutingKey is required/,
  );
  assert.throws(
    () => buildAlertmanagerConfig({ ...fakeReceivers, slackWebhookUrl: '' }),
    /slackWebhookUrl is required/,
  );
  assert.throws(
    () => buildAlertmanagerConfig({ ...fakeReceivers, slackWebhookUrl: 'hooks.slack.com/x' }),
    /slackWebhookUrl is not a URL/,
  );
  assert.throws(
    () => buildAlertmanagerConfig({ ...fakeReceivers, slackWebhookUrl: 'http://hooks.slack.invalid/x' }),
    /slackWebhookUrl must be an https URL/,
  );
});
