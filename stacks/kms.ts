import type * as pulumi from '@pulumi/pulumi';
import * as kms from '@pulumi/aws/kms/index.js';
import type { StackConfig } from './config.js';
import { TIERS } from './tiers.js';

/**
 * A customer-managed key for one purpose: yearly rotation, and the longest deletion window, so a
 * key deleted by mistake can still be recovered before the data it protects becomes unreadable.
 * Protected where the tier protects its data: losing the key loses everything encrypted with it.
 */
export function customerKey(
  name: string,
  purpose: string,
  cfg: StackConfig,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): kms.Key {
  return new kms.Key(
    name,
    { description: `${purpose} (${cfg.stack})`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
    { ...opts, protect: TIERS[cfg.tier].protectResources },
  );
}
