/**
 * How clients reach a stack, shared by the per-stack inventory tests: every Ingress has a class an
 * installed controller serves; on EKS the API and Grafana are HTTPS on the shared ALB with an
 * issued ACM certificate for their own host name, through an AWS Load Balancer Controller whose
 * role only its service account can assume; in dev the kind config forwards exactly the NodePorts
 * the stack renders, on the ports of the URLs it outputs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Tier } from '../../stacks/tiers.js';
import { REPO_ROOT, at, countByType, kubernetesObject, ofType, one } from './harness.js';
import { under } from './inventory.js';
import type { Evaluation, RegisteredResource } from './harness.js';
import { chartDefaults, chartsSkip } from './schemas.js';

type Annotations = Record<string, string>;

function release(e: Evaluation, chart: string): RegisteredResource | undefined {
  const found = ofType(e, 'kubernetes:helm.sh/v3:Release').filter((r) => r.inputs.chart === chart);
  assert.ok(found.length <= 1, `at most one ${chart} release`);
  return found[0];
}

function kps(e: Evaluation): RegisteredResource {
  const r = release(e, 'kube-prometheus-stack');
  assert.ok(r, 'kube-prometheus-stack release');
  return r;
}

interface RenderedIngress {
  readonly what: string;
  readonly className: unknown;
  readonly hosts: string[];
  readonly annotations: Annotations;
  /** The resource whose creation creates the Ingress (the Ingress itself or its Helm release). */
  readonly owner: RegisteredResource;
}

/** Ingresses the stack creates: its own, and the one the kube-prometheus-stack chart renders for Grafana. */
export function renderedIngresses(e: Evaluation): RenderedIngress[] {
  const own = ofType(e, 'kubernetes:networking.k8s.io/v1:Ingress').map((r) => ({
    what: `Ingress ${String(at(r.inputs, 'metadata.name'))}`,
    className: at(r.inputs, 'spec.ingressClassName'),
    hosts: ((at(r.inputs, 'spec.rules') ?? []) as { host?: string }[]).map((rule) => String(rule.host)),
    annotations: (at(r.inputs, 'metadata.annotations') ?? {}) as Annotations,
    owner: r,
  }));
  const chart = kps(e);
  const grafana = at(chart.inputs, 'values.grafana.ingress') as Record<string, unknown> | undefined;
  const rendered =
    grafana?.enabled === true
      ? [
          {
            what: 'Grafana Ingress (kube-prometheus-stack)',
            className: grafana.ingressClassName,
            hosts: (grafana.hosts ?? []) as string[],
            annotations: (grafana.annotations ?? {}) as Annotations,
            owner: chart,
          },
        ]
      : [];
  return [...own, ...rendered];
}

/**
 * Every Ingress names an IngressClass that an installed controller creates and serves, and waits
 * for that controller (its admission webhook must answer). Returns how many Ingresses there are.
 */
export function assertEveryIngressIsServed(e: Evaluation): number {
  const served = new Map<string, RegisteredResource>();
  const lbc = release(e, 'aws-load-balancer-controller');
  if (lbc) {
    // The stack sets both keys itself; the chart's defaults, where the pinned charts are here, fill the rest.
    const defaults = (chartsSkip ? {} : chartDefaults('aws-load-balancer-controller').values) as Record<
      string,
      unknown
    >;
    const values = { ...defaults, ...(lbc.inputs.values as Record<string, unknown>) };
    if (values.createIngressClassResource === true) served.set(String(values.ingressClass), lbc);
  }
  const ingresses = renderedIngresses(e);
  for (const ingress of ingresses) {
    assert.equal(typeof ingress.className, 'string', `${ingress.what} sets ingressClassName`);
    const controller = served.get(String(ingress.className));
    assert.ok(
      controller,
      `${ingress.what}: class "${String(ingress.className)}" is served by an installed controller (served: ${[...served.keys()].join(', ') || 'none'})`,
    );
    assert.ok(
      ingress.owner.dependencies.includes(controller.urn),
      `${ingress.what} is created after its controller`,
    );
  }
  return ingresses.length;
}

const ALB = 'alb.ingress.kubernetes.io/';
/** Annotations the controller requires to be equal across an IngressGroup ("Exclusive"). */
const GROUP_WIDE = ['group.name', 'scheme', 'ssl-redirect', 'ssl-policy', 'load-balancer-attributes'];

/**
 * EKS: the API and Grafana are served over HTTPS by the one ALB group, each with an issued ACM
 * certificate for its own host name; HTTP only redirects; the URLs and validation records the
 * stack outputs are those.
 */
export function assertHttpsEndpoints(e: Evaluation, domain: string): void {
  const value = (key: string): unknown => e.outputs[key]?.value;
  const endpoints = [
    { host: domain, url: 'apiUrl', records: 'apiCertificateValidation', health: '/ready' },
    {
      host: `grafana.${domain}`,
      url: 'grafanaUrl',
      records: 'grafanaCertificateValidation',
      health: '/api/health',
    },
  ];
  const ingresses = renderedIngresses(e);
  assert.equal(ingresses.length, endpoints.length, 'one Ingress for the API, one for Grafana');
  const certificates = ofType(e, 'aws:acm/certificate:Certificate');
  const validations = ofType(e, 'aws:acm/certificateValidation:CertificateValidation');

  for (const endpoint of endpoints) {
    const ingress = ingresses.find((i) => i.hosts.includes(endpoint.host));
    assert.ok(ingress, `an Ingress for ${endpoint.host}`);
    assert.deepEqual(ingress.hosts, [endpoint.host], `${ingress.what} serves only ${endpoint.host}`);
    const a = ingress.annotations;
    assert.equal(a[`${ALB}scheme`], 'internet-facing', `${ingress.what}: public`);
    assert.deepEqual(
      JSON.parse(a[`${ALB}listen-ports`] ?? '[]'),
      [{ HTTP: 80 }, { HTTPS: 443 }],
      `${ingress.what}: HTTPS on 443, HTTP on 80`,
    );
    assert.equal(a[`${ALB}ssl-redirect`], '443', `${ingress.what}: HTTP redirects to HTTPS`);
    assert.match(a[`${ALB}ssl-policy`] ?? '', /^ELBSecurityPolicy-TLS13-/, `${ingress.what}: TLS 1.3/1.2`);
    assert.equal(a[`${ALB}target-type`], 'ip', `${ingress.what}: the ALB targets pod IPs`);
    assert.equal(a[`${ALB}healthcheck-path`], endpoint.health, `${ingress.what}: health check`);

    const certificate = certificates.find((c) => c.id === a[`${ALB}certificate-arn`]);
    assert.ok(certificate, `${ingress.what}: its certificate-arn is an ACM certificate of this stack`);
    assert.equal(certificate.inputs.domainName, endpoint.host, `${ingress.what}: certificate for its host`);
    assert.equal(certificate.inputs.validationMethod, 'DNS');
    const validation = validations.find((v) => v.inputs.certificateArn === certificate.id);
    assert.ok(validation, `${endpoint.host}: the certificate is validated`);
    assert.ok(
      ingress.owner.dependencies.includes(validation.urn),
      `${ingress.what} waits for the issued certificate (a listener cannot use a pending one)`,
    );

    assert.equal(value(endpoint.url), `https://${endpoint.host}`, `${endpoint.url} is the HTTPS URL`);
    const records = value(endpoint.records) as { name: string; type: string; value: string }[];
    assert.ok(Array.isArray(records) && records.length > 0, `${endpoint.records} is output`);
    for (const r of records) {
      assert.equal(r.type, 'CNAME');
      assert.ok(
        r.name.endsWith(`.${endpoint.host}.`),
        `${endpoint.records}: ${r.name} is under ${endpoint.host}`,
      );
      assert.match(r.value, /\.acm-validations\.aws\.$/);
    }
  }

  for (const key of GROUP_WIDE) {
    const values = new Set(ingresses.map((i) => i.annotations[`${ALB}${key}`]));
    assert.equal(values.size, 1, `${ALB}${key} is the same on every Ingress of the group`);
    assert.ok([...values][0], `${ALB}${key} is set`);
  }

  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  assert.equal(data.PUBLIC_BASE_URL, value('apiUrl'), 'the runtime builds links on the URL clients use');
  const grafanaIni = (at(kps(e).inputs, 'values.grafana') as Record<string, unknown>)['grafana.ini'];
  assert.equal(
    at(grafanaIni, 'server.root_url'),
    value('grafanaUrl'),
    "Grafana's root_url is its public URL",
  );

  // The controller writes the group's ALB into the Ingress status; the stack outputs it.
  assert.match(
    String(value('apiLoadBalancerHostname')),
    /\.elb\.amazonaws\.com$/,
    'the ALB hostname is output',
  );
  assert.deepEqual(
    ofType(e, 'kubernetes:core/v1:Service')
      .filter((s) => at(s.inputs, 'spec.type') === 'LoadBalancer')
      .map((s) => s.name),
    [],
    'no Service of type LoadBalancer left to the in-tree cloud provider',
  );
}

/** EKS: the controller is installed from the pinned chart with its own IRSA role, trusted by its service account only. */
export function assertLoadBalancerController(e: Evaluation, tier: Tier, region: string): void {
  const lbc = release(e, 'aws-load-balancer-controller');
  assert.ok(lbc, 'the AWS Load Balancer Controller is installed');
  assert.equal(lbc.inputs.version, '3.5.0');
  assert.equal(lbc.inputs.namespace, 'kube-system');
  const values = lbc.inputs.values as Record<string, unknown>;
  const cluster = one(e, 'aws:eks/cluster:Cluster');
  assert.equal(values.clusterName, cluster.inputs.name, 'clusterName is the EKS cluster');
  assert.equal(values.region, region);
  assert.equal(values.vpcId, one(e, 'aws:ec2/vpc:Vpc').id, 'vpcId is the stack VPC (IMDS hop limit 1)');
  assert.equal(values.replicaCount, tier.ingress.controllerReplicas);
  assert.equal(at(values, 'serviceAccount.create'), true);
  assert.equal(at(values, 'serviceAccount.name'), 'aws-load-balancer-controller');

  const roleArn = (at(values, 'serviceAccount.annotations') as Annotations)['eks.amazonaws.com/role-arn'];
  const role = ofType(e, 'aws:iam/role:Role').find(
    (r) => `arn:aws:iam::123456789012:role/${r.id}` === roleArn,
  );
  assert.ok(role, "the service account names the controller's own role");
  const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as {
    Statement: {
      Effect: string;
      Action: string;
      Principal: { Federated: string };
      Condition: Record<string, Record<string, string>>;
    }[];
  };
  assert.equal(trust.Statement.length, 1, 'one way in');
  const [statement] = trust.Statement;
  const oidc = one(e, 'aws:iam/openIdConnectProvider:OpenIdConnectProvider');
  const issuerHost = String(oidc.inputs.url).replace(/^https:\/\//, '');
  assert.equal(statement?.Effect, 'Allow');
  assert.equal(statement?.Action, 'sts:AssumeRoleWithWebIdentity');
  assert.equal(statement?.Principal.Federated, oidc.id, "through the cluster's OIDC provider");
  assert.deepEqual(
    statement?.Condition,
    {
      StringEquals: {
        [`${issuerHost}:sub`]: 'system:serviceaccount:kube-system:aws-load-balancer-controller',
        [`${issuerHost}:aud`]: 'sts.amazonaws.com',
      },
    },
    'only the controller service account, exactly (no wildcard, no other condition operator)',
  );

  const policies = ofType(e, 'aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === role.id);
  assert.equal(policies.length, 1, 'one policy on the role');
  const policy = policies[0] as RegisteredResource;
  assert.ok(lbc.dependencies.includes(policy.urn), 'the controller starts after its permissions exist');
  const document = JSON.parse(String(policy.inputs.policy)) as {
    Statement: {
      Action: string[];
      Resource: string | string[];
      Condition?: Record<string, Record<string, unknown>>;
    }[];
  };
  const clusterName = String(cluster.inputs.name);
  for (const s of document.Statement) {
    for (const action of s.Action) assert.ok(!action.includes('*'), `no wildcard action (${action})`);
    const mutatesOwned = s.Action.some((a) =>
      /^elasticloadbalancing:(Create(LoadBalancer|TargetGroup)|Delete(LoadBalancer|TargetGroup)|Modify(LoadBalancer|TargetGroup))|^ec2:DeleteSecurityGroup$/.test(
        a,
      ),
    );
    if (mutatesOwned) {
      const tags = Object.values(s.Condition?.StringEquals ?? {});
      assert.ok(
        tags.includes(clusterName),
        `${s.Action.join(',')}: only on resources tagged elbv2.k8s.aws/cluster=${clusterName}`,
      );
    }
    if (s.Action.includes('ec2:AuthorizeSecurityGroupIngress'))
      assert.ok(s.Condition, 'security-group rules only on groups of this VPC or of this controller');
  }
  const actions = document.Statement.flatMap((s) => s.Action);
  for (const addon of ['waf-regional:', 'wafv2:', 'shield:']) {
    assert.ok(!actions.some((a) => a.startsWith(addon)), `no ${addon} permission`);
  }
  assert.equal(
    values.enableServiceMutatorWebhook,
    false,
    'no webhook on every Service create that refuses them while the controller starts',
  );
  assert.deepEqual(
    [values.enableWaf, values.enableWafv2, values.enableShield],
    [false, false, false],
    'the add-ons whose permissions are left out are switched off',
  );
}

/** EKS: the API pods admit the ALB (target type ip) from the public subnets it lives in. */
export function assertLoadBalancerReachesPods(e: Evaluation): void {
  const albSubnets = ofType(e, 'aws:ec2/subnet:Subnet')
    .filter((s) => (s.inputs.tags as Record<string, string>)['kubernetes.io/role/elb'] === '1')
    .map((s) => String(s.inputs.cidrBlock))
    .sort();
  assert.ok(albSubnets.length > 0, 'subnets tagged for internet-facing load balancers');
  const policy = kubernetesObject(e, 'NetworkPolicy', 'api-ingress');
  const rules = at(policy.inputs, 'spec.ingress') as {
    from?: { ipBlock?: { cidr: string } }[];
    ports: { port: number }[];
  }[];
  const admitting = rules.filter((r) => r.ports.some((p) => p.port === 8080));
  assert.equal(admitting.length, 1, 'one rule admits the API port');
  assert.deepEqual(
    (admitting[0]?.from ?? []).map((f) => f.ipBlock?.cidr).sort(),
    albSubnets,
    "the API port admits the ALB's subnets",
  );
  // The API believes X-Forwarded-For from those addresses only (the per-address limit keys on it).
  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  assert.deepEqual((data.TRUST_PROXY ?? '').split(',').sort(), albSubnets, 'TRUST_PROXY is the ALB subnets');
  const ns = kubernetesObject(e, 'Namespace', 'archibald');
  assert.equal(
    (at(ns.inputs, 'metadata.labels') as Record<string, string>)['elbv2.k8s.aws/pod-readiness-gate-inject'],
    'enabled',
    'rollouts wait until new API pods are healthy in the target group',
  );
  // The controller opens the one node security group tagged kubernetes.io/cluster/<name> (the EKS
  // cluster group) to the ALB; a second tagged group on the nodes would stop it.
  const nodes = one(e, 'aws:ec2/securityGroup:SecurityGroup', 'network-nodes');
  assert.deepEqual(
    Object.keys(nodes.inputs.tags as Record<string, string>).filter((k) =>
      k.startsWith('kubernetes.io/cluster/'),
    ),
    [],
  );
}

interface KindMapping {
  containerPort: number;
  hostPort: number;
  listenAddress?: string;
  protocol?: string;
}

/** dev: the kind config forwards exactly the NodePorts the stack renders, to the ports of the URLs it outputs. */
export function assertDevPortsMatchKind(e: Evaluation, domain: string): void {
  assert.equal(
    renderedIngresses(e).length,
    0,
    'dev installs no ingress controller, so it creates no Ingress',
  );
  const config = parse(readFileSync(`${REPO_ROOT}stacks/dev/kind-cluster.yaml`, 'utf8')) as {
    kind: string;
    apiVersion: string;
    nodes: { role: string; extraPortMappings?: KindMapping[] }[];
  };
  assert.equal(config.kind, 'Cluster');
  assert.equal(config.apiVersion, 'kind.x-k8s.io/v1alpha4');
  const mappings = config.nodes.flatMap((n) => n.extraPortMappings ?? []);

  const nodePorts: { what: string; nodePort: number }[] = ofType(e, 'kubernetes:core/v1:Service')
    .filter((s) => at(s.inputs, 'spec.type') === 'NodePort')
    .flatMap((s) =>
      ((at(s.inputs, 'spec.ports') ?? []) as { nodePort?: number }[]).map((p) => ({
        what: `Service ${String(at(s.inputs, 'metadata.name'))}`,
        nodePort: Number(p.nodePort),
      })),
    );
  const grafanaService = at(kps(e).inputs, 'values.grafana.service') as Record<string, unknown>;
  if (grafanaService.type === 'NodePort')
    nodePorts.push({ what: 'Grafana Service', nodePort: Number(grafanaService.nodePort) });

  const hostPortOf = (what: string, nodePort: number): number => {
    assert.ok(nodePort >= 30000 && nodePort <= 32767, `${what}: NodePort ${nodePort} in the default range`);
    const found = mappings.filter((m) => m.containerPort === nodePort);
    assert.equal(found.length, 1, `${what}: kind forwards NodePort ${nodePort}`);
    const m = found[0] as KindMapping;
    assert.equal(m.protocol ?? 'TCP', 'TCP');
    assert.equal(m.listenAddress, '127.0.0.1', `${what}: reachable from this machine only`);
    return m.hostPort;
  };
  for (const p of nodePorts) hostPortOf(p.what, p.nodePort);
  assert.deepEqual(
    mappings.map((m) => m.containerPort).sort(),
    nodePorts.map((p) => p.nodePort).sort(),
    'every port kind forwards is one the stack renders',
  );

  const apiPort = Number(
    at(kubernetesObject(e, 'Service', 'archibald-api-public').inputs, 'spec.ports.0.nodePort'),
  );
  const apiUrl = `http://${domain}:${hostPortOf('API', apiPort)}`;
  const grafanaUrl = `http://grafana.${domain}:${hostPortOf('Grafana', Number(grafanaService.nodePort))}`;
  assert.equal(e.outputs.apiUrl?.value, apiUrl);
  assert.equal(e.outputs.grafanaUrl?.value, grafanaUrl);
  const data = at(kubernetesObject(e, 'ConfigMap', 'archibald-config').inputs, 'data') as Record<
    string,
    string
  >;
  assert.equal(data.PUBLIC_BASE_URL, apiUrl, 'video links point at the port the host forwards');
  const grafanaIni = (at(kps(e).inputs, 'values.grafana') as Record<string, unknown>)['grafana.ini'];
  assert.equal(at(grafanaIni, 'server.root_url'), grafanaUrl, "Grafana's root_url is the forwarded URL");
}

export function assertExposureInventory(e: Evaluation): void {
  const counts = countByType(e);
  assert.equal(counts['archibald:ingress:LoadBalancerController'], 1, 'one load balancer controller');
  const lbc = 'archibald:ingress:LoadBalancerController';
  assert.deepEqual(
    [
      under(e, lbc, 'aws:iam/role:Role').length,
      under(e, lbc, 'aws:iam/rolePolicy:RolePolicy').length,
      under(e, lbc, 'kubernetes:helm.sh/v3:Release').length,
    ],
    [1, 1, 1],
    'the controller: its role, its policy, its release',
  );
  assert.equal(counts['kubernetes:networking.k8s.io/v1:Ingress'], 1, "the API's (Grafana's is the chart's)");
  assert.equal(counts['aws:acm/certificate:Certificate'], 3, 'CDN, API and Grafana certificates');
  assert.equal(counts['aws:acm/certificateValidation:CertificateValidation'], 3);
  assert.equal(under(e, 'archibald:monitoring:Monitoring', 'aws:acm/certificate:Certificate').length, 1);
  assert.equal(under(e, 'archibald:runtime:Runtime', 'aws:acm/certificate:Certificate').length, 1);
}
