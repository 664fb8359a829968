import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configureScript } from '../../stacks/components/secrets.js';
import {
  BOOTSTRAP_GRANTS,
  BOOTSTRAP_POLICY,
  BOOTSTRAP_POLICY_HCL,
  VAULT_ROLES,
  policyHcl,
} from '../../stacks/vault-access.js';
import { neededGrants, parsePolicy, policyDrift, vaultInvocations } from './vault-requests.js';

test('the bootstrap policy grants exactly what the configure script asks of Vault', () => {
  assert.deepEqual(policyDrift(configureScript(), BOOTSTRAP_POLICY_HCL), { missing: [], broader: [] });
  assert.ok(vaultInvocations(configureScript()).length >= 6, 'the script was read');
});

test('the bootstrap token cannot widen itself, make tokens or read secrets back', () => {
  const paths = [...parsePolicy(BOOTSTRAP_POLICY_HCL).keys()];
  assert.ok(!paths.includes(`sys/policies/acl/${BOOTSTRAP_POLICY}`), 'no write to its own policy');
  assert.ok(!paths.some((p) => p.startsWith('auth/token/')), 'no token creation');
  for (const [path, caps] of parsePolicy(BOOTSTRAP_POLICY_HCL)) {
    if (path.startsWith('archibald/'))
      assert.ok(!caps.has('read'), `${path}: writes secrets, never reads them`);
  }
  // sudo only where Vault requires it: enabling an auth method.
  assert.deepEqual(
    [...parsePolicy(BOOTSTRAP_POLICY_HCL)].filter(([, caps]) => caps.has('sudo')).map(([p]) => p),
    ['sys/auth/kubernetes'],
  );
  // Each role's policy and Kubernetes role is writable, nothing of any other.
  for (const role of Object.values(VAULT_ROLES)) {
    assert.ok(paths.includes(`sys/policies/acl/${role.policy}`));
    assert.ok(paths.includes(`auth/kubernetes/role/${role.name}`));
  }
});

test('drift is caught both ways: a new command without a grant, a grant without a command', () => {
  const script = `${configureScript()}\nvault write auth/kubernetes/role/extra policies=x`;
  assert.deepEqual(policyDrift(script, BOOTSTRAP_POLICY_HCL).missing, [
    'auth/kubernetes/role/extra: create',
    'auth/kubernetes/role/extra: update',
  ]);
  const wider = policyHcl([...BOOTSTRAP_GRANTS, { path: 'archibald/data/*', capabilities: ['read'] }]);
  assert.deepEqual(policyDrift(configureScript(), wider).broader, [
    'archibald/data/*: a glob',
    'archibald/data/*: read',
  ]);
  const extraCapability = policyHcl(
    BOOTSTRAP_GRANTS.map((g) =>
      g.path === 'sys/mounts' ? { path: g.path, capabilities: ['read', 'update'] } : g,
    ),
  );
  assert.deepEqual(policyDrift(configureScript(), extraCapability).broader, ['sys/mounts: update']);
  const noSudo = policyHcl(
    BOOTSTRAP_GRANTS.map((g) =>
      g.path === 'sys/auth/kubernetes' ? { path: g.path, capabilities: ['create', 'update'] } : g,
    ),
  );
  assert.deepEqual(policyDrift(configureScript(), noSudo).missing, ['sys/auth/kubernetes: sudo']);
});

test('a vault command the CLI-to-API table does not know fails the check instead of passing', () => {
  assert.throws(() => neededGrants('vault token create -policy=x'), /no API mapping for this vault command/);
  assert.throws(() => parsePolicy('path "x" { policy = "write" }'), /does not understand/);
});
