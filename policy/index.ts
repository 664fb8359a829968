/**
 * The CrossGuard policy pack a real `pulumi preview --policy-pack policy` runs (the Pulumi CLI starts
 * it with the pack directory as its working directory; PolicyPack reads the version from
 * policy/package.json). Each policy is a rule of policy/rules.ts, which the plan command runs over
 * the mocked resources too; levels per stack come from --policy-pack-config policy/config/<stack>.json.
 */
import { PolicyPack } from '@pulumi/policy';
import { POLICIES } from './policies.js';

new PolicyPack('archibald', { policies: POLICIES });
