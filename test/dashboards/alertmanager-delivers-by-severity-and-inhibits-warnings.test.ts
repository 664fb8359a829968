/**
 * The rendered Alertmanager configuration in a real Alertmanager (Debian's prometheus-alertmanager):
 * alerts are posted to it, and it must page for the critical one, send the warnings to chat, and hold
 * back the warning whose critical twin fires. The PagerDuty and Slack endpoints are pointed at a
 * local recorder (the only change to the rendered configuration), so the notifications' rendered
 * templates are checked too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildAlertmanagerConfig, CHAT_RECEIVER, PAGER_RECEIVER } from '../../dashboards/index.js';
import { runbookUrl } from '../../dashboards/rules/index.js';
import { sparePort, startDaemon } from './daemon.js';

const fakeReceivers = {
  pagerDutyRoutingKey: 'FAKE-routing-key-for-tests-only',
  slackWebhookUrl: 'https://hooks.slack.invalid/services/FAKE/FAKE/fake-for-tests-only',
  slackChannel: '#archibald-alerts-test',
};

// A recorder standing in for PagerDuty's Events API and Slack's webhook.
const received: Array<{ path: string; body: Record<string, unknown> }> = [];
const recorder = createServer((request, response) => {
  let text = '';
  request.on('data', (chunk: Buffer) => (text += chunk.toString()));
  request.on('end', () => {
    received.push({ path: request.url ?? '', body: JSON.parse(text || '{}') as Record<string, unknown> });
    response.writeHead(request.url === '/pagerduty' ? 202 : 200, { 'content-type': 'application/json' });
    response.end('{"status":"success"}');
  });
});
await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
after(
  () =>
    new Promise<void>((resolve) => {
      recorder.close(() => resolve());
      // Alertmanager keeps its connections alive; close() alone would wait for them to time out.
      recorder.closeAllConnections();
    }),
);
const recorderUrl = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;

interface Receiver {
  name: string;
  pagerduty_configs?: Array<Record<string, unknown>>;
  slack_configs?: Array<Record<string, unknown>>;
}
const config = buildAlertmanagerConfig(fakeReceivers) as { receivers: Receiver[] };
const pager = config.receivers.find((r) => r.name === PAGER_RECEIVER)?.pagerduty_configs?.[0];
const chat = config.receivers.find((r) => r.name === CHAT_RECEIVER)?.slack_configs?.[0];
assert.ok(pager && chat, 'the config has a PagerDuty and a Slack receiver');
pager.url = `${recorderUrl}/pagerduty`;
chat.api_url = `${recorderUrl}/slack`;

const dir = await mkdtemp(join(tmpdir(), 'archibald-alertmanager-'));
await writeFile(join(dir, 'alertmanager.yaml'), stringify(config));
const port = await sparePort();
const alertmanagerUrl = `http://127.0.0.1:${port}`;
const alertmanager = await startDaemon({
  command: 'prometheus-alertmanager',
  args: [
    `--config.file=${join(dir, 'alertmanager.yaml')}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ],
  dir,
  readyUrl: `${alertmanagerUrl}/-/ready`,
});
after(() => alertmanager.stop());

function alert(alertname: string, severity: string, namespace: string) {
  return {
    labels: { alertname, severity, namespace },
    annotations: {
      summary: `${alertname} summary`,
      description: `${alertname} in ${namespace} (${severity})`,
      runbook_url: runbookUrl(alertname),
    },
  };
}

interface AlertStatus {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

const posted = [
  alert('ApiErrorBudgetBurn', 'critical', 'archibald'),
  alert('ApiErrorBudgetBurn', 'warning', 'archibald'),
  alert('ApiErrorBudgetBurn', 'warning', 'archibald-staging'),
  alert('JobsStalled', 'warning', 'archibald'),
];
const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(posted),
});
assert.equal(response.status, 200, await response.text());

async function statuses(): Promise<AlertStatus[]> {
  return (await (await fetch(`${alertmanagerUrl}/api/v2/alerts`)).json()) as AlertStatus[];
}

function find(
  list: AlertStatus[],
  alertname: string,
  severity: string,
  namespace: string,
): AlertStatus | undefined {
  return list.find(
    (a) =>
      a.labels.alertname === alertname && a.labels.severity === severity && a.labels.namespace === namespace,
  );
}

test('a warning is inhibited while the same alert is critical in the same namespace, and only then', async () => {
  // The inhibitor learns of the critical alert asynchronously: wait for its effect, then check all.
  await alertmanager.waitUntil(
    'the archibald warning to be inhibited',
    async () =>
      find(await statuses(), 'ApiErrorBudgetBurn', 'warning', 'archibald')?.status.state === 'suppressed',
    30_000,
  );
  const list = await statuses();
  assert.equal(list.length, posted.length);
  assert.equal(find(list, 'ApiErrorBudgetBurn', 'warning', 'archibald')?.status.state, 'suppressed');
  assert.equal(find(list, 'ApiErrorBudgetBurn', 'warning', 'archibald')?.status.inhibitedBy.length, 1);
  assert.equal(find(list, 'ApiErrorBudgetBurn', 'critical', 'archibald')?.status.state, 'active');
  assert.equal(find(list, 'ApiErrorBudgetBurn', 'warning', 'archibald-staging')?.status.state, 'active');
  assert.equal(find(list, 'JobsStalled', 'warning', 'archibald')?.status.state, 'active');
});

test('alert groups go to the pager for critical and to chat for warning', async () => {
  const groups = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts/groups`)).json()) as Array<{
    receiver: { name: string };
    alerts: AlertStatus[];
  }>;
  const receiverOf = (alertname: string, severity: string, namespace: string) =>
    groups.find((g) => find(g.alerts, alertname, severity, namespace))?.receiver.name;
  assert.equal(receiverOf('ApiErrorBudgetBurn', 'critical', 'archibald'), PAGER_RECEIVER);
  assert.equal(receiverOf('ApiErrorBudgetBurn', 'warning', 'archibald-staging'), CHAT_RECEIVER);
  assert.equal(receiverOf('JobsStalled', 'warning', 'archibald'), CHAT_RECEIVER);
});

test('the page reaches PagerDuty with the routing key, summary and runbook link', async () => {
  await alertmanager.waitUntil(
    'a PagerDuty event',
    async () => received.some((r) => r.path === '/pagerduty'),
    90_000,
  );
  const events = received.filter((r) => r.path === '/pagerduty').map((r) => r.body);
  assert.equal(events.length, 1, JSON.stringify(events));
  const event = events[0] as {
    routing_key: string;
    event_action: string;
    payload: { summary: string; severity: string };
    links: Array<{ href: string; text: string }>;
  };
  assert.equal(event.routing_key, fakeReceivers.pagerDutyRoutingKey);
  assert.equal(event.event_action, 'trigger');
  assert.equal(event.payload.severity, 'critical');
  assert.equal(event.payload.summary, 'ApiErrorBudgetBurn: ApiErrorBudgetBurn summary');
  assert.deepEqual(event.links, [{ href: runbookUrl('ApiErrorBudgetBurn'), text: 'Runbook' }]);
});

test('the warnings reach Slack in the channel, with their runbooks, and the inhibited one does not', async () => {
  await alertmanager.waitUntil(
    'two Slack messages',
    async () => received.filter((r) => r.path === '/slack').length >= 2,
    120_000,
  );
  const messages = received
    .filter((r) => r.path === '/slack')
    .map((r) => r.body as { channel: string; attachments: Array<{ title: string; text: string }> });
  const texts = messages.map((m) => `${m.attachments[0]?.title}\n${m.attachments[0]?.text}`);
  for (const m of messages) assert.equal(m.channel, fakeReceivers.slackChannel);
  assert.ok(
    texts.some((t) => t.includes('[FIRING] JobsStalled (warning)') && t.includes(runbookUrl('JobsStalled'))),
  );
  assert.ok(texts.some((t) => t.includes('ApiErrorBudgetBurn in archibald-staging (warning)')));
  assert.ok(
    !texts.some((t) => t.includes('ApiErrorBudgetBurn in archibald (warning)')),
    'the inhibited warning was sent',
  );
});
