/**
 * The CrossGuard policy pack a real `pulumi preview --policy-pack policy` runs. Each policy is a
 * rule of policy/rules.ts (the plan command runs the same functions over the mocked resources);
 * levels per stack come from --policy-pack-config policy/config/<stack>.json.
 */
import { PolicyPack } from '@pulumi/policy';
import type { Policy, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { RULES } from './rules.js';
import type { Rule } from './rules.js';

export function policyOf(rule: Rule): Policy {
  if (rule.resource) {
    const validate = rule.resource;
    const policy: ResourceValidationPolicy = {
      name: rule.name,
      description: rule.description,
      enforcementLevel: rule.enforcementLevel,
      validateResource: (args, reportViolation) => {
        for (const message of validate({
          type: args.type,
          props: args.props,
          urn: args.urn,
          name: args.name,
        }))
          reportViolation(message);
      },
    };
    return policy;
  }
  const validate = rule.stack ?? (() => []);
  const policy: StackValidationPolicy = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    validateStack: (args, reportViolation) => {
      const resources = args.resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
      }));
      for (const v of validate(resources)) reportViolation(v.message, v.urn);
    },
  };
  return policy;
}

export const pack = new PolicyPack('archibald', { policies: RULES.map(policyOf) });
