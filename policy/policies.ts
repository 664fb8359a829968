/**
 * The rules of policy/rules.ts as CrossGuard policies: a resource rule becomes a validateResource,
 * a stack rule a validateStack. Kept apart from index.ts, whose `new PolicyPack` starts the pack's
 * gRPC server, so the tests can call each policy the way the engine does.
 */
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

export const POLICIES: Policy[] = RULES.map(policyOf);
