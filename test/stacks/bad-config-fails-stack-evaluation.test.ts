import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StackConfigError } from '../../stacks/config.js';
import { defaultSecrets, evaluateStack } from './harness.js';

// Both evaluations fail before any resource is registered, so one process can run them in turn.

test('a bad config value fails the program before anything is created', async () => {
  await assert.rejects(
    evaluateStack('prod', { configOverrides: { tier: 'gigantic', storageMode: 'glacier' } }),
    (err: unknown) => {
      assert.ok(err instanceof StackConfigError);
      assert.match(
        err.message,
        /archibald:tier = "gigantic": required; allowed: dev, staging, prod, enterprise/,
      );
      assert.match(err.message, /archibald:storageMode = "glacier": allowed: s3, local/);
      return true;
    },
  );
});

test('an alert receiver the stack names but nobody set fails with the command to set it', async () => {
  const { slackWebhookUrl: _missing, ...secrets } = defaultSecrets('prod');
  await assert.rejects(
    evaluateStack('prod', { secrets }),
    /archibald:slackWebhookUrl = \(not set\): required secret \(pulumi config set --secret slackWebhookUrl …\)/,
  );
});
