/**
 * Alertmanager routing for Archibald's alerts: critical pages (PagerDuty), warning goes to chat
 * (Slack), and a firing critical silences the matching warning. Receiver secrets are parameters;
 * the monitoring component passes them from the stack's secrets.
 */

export interface AlertReceivers {
  /** PagerDuty Events API v2 routing (integration) key. */
  pagerDutyRoutingKey: string;
  /** Slack incoming-webhook URL. */
  slackWebhookUrl: string;
  /** Slack channel; the webhook's own channel when omitted. */
  slackChannel?: string;
}

export const PAGER_RECEIVER = 'pager';
export const CHAT_RECEIVER = 'chat';

/** Labels an alert group is keyed on: one notification per alert and deployment. */
export const GROUP_BY = ['alertname', 'namespace', 'job'];

export function buildAlertmanagerConfig(receivers: AlertReceivers): object {
  requireValue(receivers.pagerDutyRoutingKey, 'pagerDutyRoutingKey');
  requireValue(receivers.slackWebhookUrl, 'slackWebhookUrl');
  let webhook: URL;
  try {
    webhook = new URL(receivers.slackWebhookUrl);
  } catch {
    throw new Error('slackWebhookUrl is not a URL');
  }
  if (webhook.protocol !== 'https:') throw new Error('slackWebhookUrl must be an https URL');
  return routedConfig(
    { routing_key: receivers.pagerDutyRoutingKey },
    { api_url: receivers.slackWebhookUrl },
    receivers.slackChannel,
  );
}

/** Receiver secrets as files Alertmanager reads itself (the single-node deployment's secrets). */
export interface AlertReceiverFiles {
  pagerDutyRoutingKeyFile: string;
  slackWebhookUrlFile: string;
  slackChannel?: string;
}

/** The same routing with the receivers' secrets read from files: the config holds no secret. */
export function buildAlertmanagerConfigFromFiles(files: AlertReceiverFiles): object {
  requireValue(files.pagerDutyRoutingKeyFile, 'pagerDutyRoutingKeyFile');
  requireValue(files.slackWebhookUrlFile, 'slackWebhookUrlFile');
  return routedConfig(
    { routing_key_file: files.pagerDutyRoutingKeyFile },
    { api_url_file: files.slackWebhookUrlFile },
    files.slackChannel,
  );
}

function routedConfig(
  pagerDutyKey: Record<string, string>,
  slackUrl: Record<string, string>,
  slackChannel: string | undefined,
): object {
  const slack: Record<string, unknown> = {
    ...slackUrl,
    send_resolved: true,
    title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})',
    text: [
      '{{ range .Alerts }}*{{ .Annotations.summary }}*',
      '{{ .Annotations.description }}',
      'Runbook: {{ .Annotations.runbook_url }}',
      '{{ end }}',
    ].join('\n'),
  };
  if (slackChannel) slack.channel = slackChannel;

  return {
    route: {
      // Anything without a known severity still reaches a human, in chat.
      receiver: CHAT_RECEIVER,
      group_by: GROUP_BY,
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        {
          receiver: PAGER_RECEIVER,
          matchers: ['severity="critical"'],
          group_wait: '10s',
          repeat_interval: '1h',
        },
        { receiver: CHAT_RECEIVER, matchers: ['severity="warning"'] },
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: GROUP_BY,
      },
    ],
    receivers: [
      {
        name: PAGER_RECEIVER,
        pagerduty_configs: [
          {
            ...pagerDutyKey,
            send_resolved: true,
            severity: '{{ .CommonLabels.severity }}',
            description: '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}',
            links: [{ href: '{{ .CommonAnnotations.runbook_url }}', text: 'Runbook' }],
          },
        ],
      },
      { name: CHAT_RECEIVER, slack_configs: [slack] },
    ],
  };
}

function requireValue(value: string, name: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${name} is required (a non-empty string from the stack's secrets)`);
  }
}
