/**
 * The stack's configuration, validated at program start. Pulumi's getters only cast, so every key
 * is checked here and a bad value fails with its key, the value and what is allowed — all problems
 * at once, not the first one.
 */
import * as pulumi from '@pulumi/pulumi';
import { imageRepositoryName, physicalNameProblems } from './naming.js';
import { TIERS, TIER_NAMES } from './tiers.js';
import type { TierName } from './tiers.js';

export const CLUSTER_MODES = ['eks', 'existing'] as const;
export const CACHE_MODES = ['elasticache', 'in-cluster'] as const;
export const DATABASE_MODES = ['rds', 'in-cluster'] as const;
export const STORAGE_MODES = ['s3', 'local'] as const;

export interface AlertingConfig {
  /** Names of the secret config keys holding the receivers' credentials. */
  readonly pagerDutyKeyName: string;
  readonly slackWebhookKeyName: string;
  readonly slackChannel: string;
}

export interface StackConfig {
  readonly stack: string;
  readonly tier: TierName;
  readonly region: string;
  readonly drRegion: string | undefined;
  readonly domain: string;
  readonly clusterMode: (typeof CLUSTER_MODES)[number];
  readonly kubeContext: string | undefined;
  readonly cacheMode: (typeof CACHE_MODES)[number];
  readonly databaseMode: (typeof DATABASE_MODES)[number];
  readonly storageMode: (typeof STORAGE_MODES)[number];
  /** Any component on AWS (then region is required and an AWS provider is made). */
  readonly usesAws: boolean;
  readonly backups: boolean;
  readonly image: string;
  readonly alerting: AlertingConfig | undefined;
  /** Where runbooks/<AlertName>.md are served (the alerts' runbook_url); undefined = dashboards' default. */
  readonly runbookBaseUrl: string | undefined;
  /** The only AWS account the stack's providers may act in (allowedAccountIds); set when usesAws. */
  readonly accountId: string | undefined;
  /** The `aws:profile` stack setting, passed to every explicit AWS provider (they ignore aws:*). */
  readonly awsProfile: string | undefined;
  /** CIDRs that may reach the EKS API's public endpoint; empty = private endpoint only. */
  readonly eksPublicAccessCidrs: readonly string[];
  /** IAM roles (operators, the CI deploy role) given cluster admin through EKS access entries. */
  readonly clusterAdminRoleArns: readonly string[];
  /** A stack stood up from another stack's DR copies (prod-dr from prod); undefined = fresh data stores. */
  readonly restore: RestoreConfig | undefined;
}

/**
 * Where a DR stack's data comes from: the copies the source stack's backups component keeps in
 * this stack's region. The database is restored from a snapshot, the videos bucket is the source's
 * replica bucket, adopted as it is: neither is created empty.
 */
export interface RestoreConfig {
  /** The stack whose copies these are (its physical names find them). */
  readonly fromStack: string;
  /** 'latest' (the newest AWS Backup recovery point copied into this region) or a snapshot identifier or ARN. */
  readonly databaseSnapshot: string;
}

/** The config keys this program reads (project namespace), with defaults as in Pulumi.yaml. */
export const CONFIG_KEYS = [
  'tier',
  'region',
  'drRegion',
  'domain',
  'clusterMode',
  'kubeContext',
  'cacheMode',
  'databaseMode',
  'storageMode',
  'backups',
  'image',
  'alertPagerDutyKeyName',
  'alertSlackWebhookKeyName',
  'alertSlackChannel',
  'runbookBaseUrl',
  'accountId',
  'eksPublicAccessCidrs',
  'clusterAdminRoleArns',
  'restoreFrom',
  'restoreDatabaseSnapshot',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];
/** Raw values as Pulumi hands them over; list keys arrive as JSON arrays. `awsProfile` is aws:profile. */
export type RawConfig = Partial<Record<ConfigKey | 'awsProfile', string>>;

export class StackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'StackConfigError';
  }
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CONFIG_KEY_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
// registry/repository[:tag][@sha256:digest]; the tag must not float (no "latest", no missing tag).
const IMAGE =
  /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\.[a-z0-9-]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const STACK_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const DB_SNAPSHOT = /^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:)?[A-Za-z][A-Za-z0-9:-]{0,254}$/;
const SLACK_CHANNEL = /^#[a-z0-9_-]{1,80}$/;
const ACCOUNT_ID = /^\d{12}$/;
const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/;
/** Tiers whose EKS API must not be open to the whole internet by default. */
const RESTRICTED_ENDPOINT_TIERS: readonly TierName[] = ['prod', 'enterprise'];

function show(value: string | undefined): string {
  return value === undefined ? '(not set)' : JSON.stringify(value);
}

export function parseStackConfig(stack: string, raw: RawConfig): StackConfig {
  const problems: string[] = [];
  const fail = (key: ConfigKey, why: string): void => {
    problems.push(`archibald:${key} = ${show(raw[key])}: ${why}`);
  };
  const oneOf = <T extends string>(key: ConfigKey, allowed: readonly T[], fallback: T): T => {
    const value = raw[key] ?? fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    fail(key, `allowed: ${allowed.join(', ')}`);
    return fallback;
  };
  const optional = (key: ConfigKey): string | undefined => {
    const v = raw[key];
    return v === undefined || v === '' ? undefined : v;
  };
  /** A list key: a JSON array of strings (how Pulumi hands over a YAML list), each matching `item`. */
  const list = (key: ConfigKey, item: RegExp, example: string): string[] | undefined => {
    const v = optional(key);
    if (v === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((x): x is string => typeof x === 'string')) {
      fail(key, `allowed: a list of strings, e.g. ["${example}"]`);
      return [];
    }
    const bad = parsed.filter((x) => !item.test(x));
    if (bad.length > 0)
      fail(key, `${bad.map((b) => JSON.stringify(b)).join(', ')}: allowed: items like ${example}`);
    return parsed;
  };

  const tierValue = raw.tier;
  let tier: TierName = 'dev';
  if (tierValue === undefined || !(TIER_NAMES as readonly string[]).includes(tierValue)) {
    fail('tier', `required; allowed: ${TIER_NAMES.join(', ')}`);
  } else {
    tier = tierValue as TierName;
  }

  const region = raw.region ?? '';
  const drRegion = optional('drRegion');
  if (drRegion !== undefined && !REGION.test(drRegion))
    fail('drRegion', 'allowed: an AWS region name such as eu-central-1');

  const domain = raw.domain ?? '';
  if (!HOSTNAME.test(domain))
    fail('domain', 'required; allowed: a lower-case DNS name such as archibald.example.com');

  const clusterMode = oneOf('clusterMode', CLUSTER_MODES, 'eks');
  const cacheMode = oneOf('cacheMode', CACHE_MODES, 'elasticache');
  const databaseMode = oneOf('databaseMode', DATABASE_MODES, 'rds');
  const storageMode = oneOf('storageMode', STORAGE_MODES, 's3');

  let backups = true;
  if (raw.backups !== undefined) {
    if (raw.backups === 'true' || raw.backups === 'false') backups = raw.backups === 'true';
    else fail('backups', 'allowed: true, false');
  }

  const image = raw.image ?? '';
  if (!IMAGE.test(image) || image.endsWith(':latest')) {
    fail(
      'image',
      'required; allowed: a container image reference with a fixed tag or digest (not :latest), e.g. registry/archibald:0.1.0',
    );
  } else if (!/:[\w][\w.-]*$/.test(image.split('/').pop() ?? '') && !image.includes('@sha256:')) {
    fail('image', 'allowed: an image reference with a tag or digest (a missing tag means :latest)');
  }

  const usesAws =
    clusterMode === 'eks' || cacheMode === 'elasticache' || databaseMode === 'rds' || storageMode === 's3';
  if (region === '' ? usesAws : !REGION.test(region)) {
    const required = region === '' ? 'required (AWS components are on); ' : '';
    fail('region', `${required}allowed: an AWS region name such as eu-west-1`);
  }

  if (clusterMode === 'existing') {
    if (cacheMode === 'elasticache')
      fail(
        'cacheMode',
        'allowed with clusterMode existing: in-cluster (ElastiCache only admits the EKS cluster)',
      );
    if (databaseMode === 'rds')
      fail('databaseMode', 'allowed with clusterMode existing: in-cluster (RDS only admits the EKS cluster)');
    if (storageMode === 's3')
      fail(
        'storageMode',
        'allowed with clusterMode existing: local (the S3 writer role is bound to the EKS OIDC provider)',
      );
  }
  if (backups) {
    if (databaseMode !== 'rds' || storageMode !== 's3') {
      fail(
        'backups',
        'allowed: false unless databaseMode is rds and storageMode is s3 (AWS Backup protects RDS and S3)',
      );
    }
    if (drRegion === undefined)
      fail('drRegion', 'required when backups is true: the region backups are copied to');
    else if (drRegion === region)
      fail(
        'drRegion',
        `must differ from region (${region}): a copy in the same region is no disaster recovery`,
      );
  }

  const restoreFrom = optional('restoreFrom');
  const restoreDatabaseSnapshot = optional('restoreDatabaseSnapshot') ?? 'latest';
  let restore: RestoreConfig | undefined;
  if (restoreFrom !== undefined) {
    if (!STACK_NAME.test(restoreFrom) || restoreFrom === stack)
      fail('restoreFrom', 'allowed: the name of another stack of this project, such as prod');
    if (databaseMode !== 'rds' || storageMode !== 's3')
      fail('restoreFrom', 'allowed only with databaseMode rds and storageMode s3 (what the DR copies are)');
    if (backups)
      fail(
        'backups',
        "allowed: false while restoreFrom is set (the adopted replica bucket keeps the source stack's replication; enable backups once the stack is the primary again)",
      );
    if (restoreDatabaseSnapshot !== 'latest' && !DB_SNAPSHOT.test(restoreDatabaseSnapshot))
      fail(
        'restoreDatabaseSnapshot',
        'allowed: latest, or an RDS snapshot identifier or ARN (arn:aws:rds:<region>:<account>:snapshot:<id>)',
      );
    restore = { fromStack: restoreFrom, databaseSnapshot: restoreDatabaseSnapshot };
  } else if (raw.restoreDatabaseSnapshot !== undefined && raw.restoreDatabaseSnapshot !== '')
    fail('restoreDatabaseSnapshot', 'allowed only with restoreFrom (the stack whose snapshot it is)');

  const pagerDutyKeyName = optional('alertPagerDutyKeyName');
  const slackWebhookKeyName = optional('alertSlackWebhookKeyName');
  const slackChannel = raw.alertSlackChannel ?? '#archibald-alerts';
  let alerting: AlertingConfig | undefined;
  if ((pagerDutyKeyName === undefined) !== (slackWebhookKeyName === undefined)) {
    const missing: ConfigKey =
      pagerDutyKeyName === undefined ? 'alertPagerDutyKeyName' : 'alertSlackWebhookKeyName';
    fail(missing, 'required when the other alert receiver key name is set (both or neither)');
  } else if (pagerDutyKeyName !== undefined && slackWebhookKeyName !== undefined) {
    if (!CONFIG_KEY_NAME.test(pagerDutyKeyName))
      fail('alertPagerDutyKeyName', 'allowed: a config key name such as pagerDutyRoutingKey');
    if (!CONFIG_KEY_NAME.test(slackWebhookKeyName))
      fail('alertSlackWebhookKeyName', 'allowed: a config key name such as slackWebhookUrl');
    if (!SLACK_CHANNEL.test(slackChannel))
      fail('alertSlackChannel', 'allowed: a Slack channel such as #archibald-alerts');
    alerting = { pagerDutyKeyName, slackWebhookKeyName, slackChannel };
  }

  const runbookBaseUrl = optional('runbookBaseUrl');
  if (runbookBaseUrl !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(runbookBaseUrl))
    fail(
      'runbookBaseUrl',
      'allowed: an http(s) URL such as https://github.com/<org>/<repo>/blob/main/runbooks',
    );

  const accountId = optional('accountId');
  if (accountId !== undefined && !ACCOUNT_ID.test(accountId))
    fail('accountId', 'allowed: a 12-digit AWS account ID such as 123456789012');
  else if (accountId === undefined && usesAws)
    fail(
      'accountId',
      'required (AWS components are on): the AWS account this stack belongs to; every AWS provider refuses any other',
    );
  const ecr = ECR_IMAGE.exec(image);
  if (ecr && usesAws) {
    const [, account, imageRegion, repository] = ecr as unknown as [string, string, string, string];
    const expected = imageRepositoryName({ stack });
    if (clusterMode === 'eks' && (account !== accountId || imageRegion !== region || repository !== expected))
      fail(
        'image',
        `allowed: an image from this stack's ECR repository, ${accountId ?? '<accountId>'}.dkr.ecr.${region}.amazonaws.com/${expected}:<tag>, or from another registry`,
      );
  }

  const cidrs = list('eksPublicAccessCidrs', IPV4_CIDR, '203.0.113.0/24');
  let eksPublicAccessCidrs: string[] = cidrs ?? [];
  if (clusterMode === 'eks') {
    const restricted = RESTRICTED_ENDPOINT_TIERS.includes(tier);
    if (cidrs === undefined) {
      if (restricted)
        fail(
          'eksPublicAccessCidrs',
          `required for tier ${tier}: the CIDRs allowed to reach the EKS API (your operators' and CI runners' egress), or [] for a private endpoint only`,
        );
      else eksPublicAccessCidrs = ['0.0.0.0/0'];
    } else if (restricted && cidrs.includes('0.0.0.0/0')) {
      fail('eksPublicAccessCidrs', `allowed for tier ${tier}: specific CIDRs, never 0.0.0.0/0`);
    }
  }
  const clusterAdminRoleArns =
    list('clusterAdminRoleArns', ROLE_ARN, 'arn:aws:iam::123456789012:role/platform-admin') ?? [];
  if (accountId !== undefined) {
    const foreign = clusterAdminRoleArns.filter((arn) => !arn.includes(`::${accountId}:`));
    if (foreign.length > 0)
      fail('clusterAdminRoleArns', `${foreign.join(', ')}: allowed: roles of account ${accountId}`);
  }

  if (usesAws) {
    for (const problem of physicalNameProblems({ stack, accountId }, TIERS[tier].postgres.readReplicas))
      problems.push(problem);
  }

  if (problems.length > 0) throw new StackConfigError(problems.map((p) => `stack ${stack}: ${p}`));
  return {
    stack,
    tier,
    region,
    drRegion,
    domain,
    clusterMode,
    kubeContext: optional('kubeContext'),
    cacheMode,
    databaseMode,
    storageMode,
    usesAws,
    backups,
    image,
    alerting,
    runbookBaseUrl,
    accountId,
    awsProfile: raw.awsProfile === '' ? undefined : raw.awsProfile,
    eksPublicAccessCidrs,
    clusterAdminRoleArns,
    restore,
  };
}

/** Reads the project's config through Pulumi (as `pulumi up` provides it) and validates it. */
export function loadStackConfig(): StackConfig {
  const config = new pulumi.Config();
  const raw: RawConfig = {};
  for (const key of CONFIG_KEYS) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  const profile = new pulumi.Config('aws').get('profile');
  if (profile !== undefined) raw.awsProfile = profile;
  return parseStackConfig(pulumi.getStack(), raw);
}

export interface StackSecrets {
  readonly pagerDutyRoutingKey: pulumi.Output<string> | undefined;
  readonly slackWebhookUrl: pulumi.Output<string> | undefined;
  readonly anthropicApiKey: pulumi.Output<string> | undefined;
  readonly vaultToken: pulumi.Output<string> | undefined;
}

/**
 * Secret config values: read with getSecret so they stay secret in state. The alert receivers'
 * keys are the ones the stack file names; when alerting is configured they are required.
 */
export function loadStackSecrets(cfg: StackConfig): StackSecrets {
  const config = new pulumi.Config();
  const nonEmpty = (key: string): pulumi.Output<string> | undefined =>
    config.get(key) ? config.requireSecret(key) : undefined;
  let pagerDutyRoutingKey: pulumi.Output<string> | undefined;
  let slackWebhookUrl: pulumi.Output<string> | undefined;
  if (cfg.alerting) {
    const missing = [cfg.alerting.pagerDutyKeyName, cfg.alerting.slackWebhookKeyName].filter(
      (k) => !config.get(k),
    );
    if (missing.length > 0) {
      throw new StackConfigError(
        missing.map(
          (k) =>
            `stack ${cfg.stack}: archibald:${k} = (not set): required secret (pulumi config set --secret ${k} …) because the stack names it as an alert receiver`,
        ),
      );
    }
    pagerDutyRoutingKey = config.requireSecret(cfg.alerting.pagerDutyKeyName);
    slackWebhookUrl = config.requireSecret(cfg.alerting.slackWebhookKeyName);
  }
  return {
    pagerDutyRoutingKey,
    slackWebhookUrl,
    anthropicApiKey: nonEmpty('anthropicApiKey'),
    vaultToken: nonEmpty('vaultToken'),
  };
}
