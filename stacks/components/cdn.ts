import * as pulumi from '@pulumi/pulumi';
import * as acm from '@pulumi/aws/acm/index.js';
import * as cloudfront from '@pulumi/aws/cloudfront/index.js';
import type { Provider as AwsProvider } from '@pulumi/aws/provider.js';
import * as s3 from '@pulumi/aws/s3/index.js';
import type * as awsInput from '@pulumi/aws/types/input.js';
import * as wafv2 from '@pulumi/aws/wafv2/index.js';
import type { StackConfig } from '../config.js';
import { policyDocument } from '../iam.js';
import { awsTags, physicalName } from '../naming.js';
import type { Tier } from '../tiers.js';
import { privateBucket } from './private-bucket.js';

export interface CdnArgs {
  readonly cfg: StackConfig;
  readonly tier: Tier;
  /** CloudFront's certificate and WAF web ACL must live in us-east-1. */
  readonly usEast1: AwsProvider;
}

/** CloudFront's managed cache policy "CachingOptimized". */
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesAmazonIpReputationList',
];

export function cdnHostname(cfg: StackConfig): string {
  return `cdn.${cfg.domain}`;
}

/**
 * Rendered videos: a private, versioned, encrypted bucket that only this CloudFront distribution
 * may read (Origin Access Control, bucket policy bound to the distribution's ARN), TLS 1.2+, a
 * WAFv2 web ACL (managed rule groups and a per-IP rate limit) and access logs.
 */
export class Cdn extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly bucket: s3.Bucket;
  readonly bucketVersioning: s3.BucketVersioning;
  readonly domainName: pulumi.Output<string>;
  readonly baseUrl: pulumi.Output<string>;
  /** Where the cdn.<domain> CNAME points. */
  readonly distributionDomainName: pulumi.Output<string>;
  readonly certificateValidationRecords: pulumi.Output<{ name: string; type: string; value: string }[]>;

  constructor(name: string, args: CdnArgs, opts?: pulumi.ComponentResourceOptions) {
    super('archibald:cdn:Cdn', name, {}, opts);
    const { cfg, tier, usEast1 } = args;
    const child = { parent: this };
    const inUsEast1 = { parent: this, provider: usEast1 };
    const tags = awsTags(cfg, 'cdn');
    const hostname = cdnHostname(cfg);

    // A DR stack serves the source stack's replica bucket in this region, with every video in it.
    const restore = cfg.restore;
    const assets = privateBucket(
      `${name}-assets`,
      {
        bucketName: restore
          ? physicalName({ ...cfg, stack: restore.fromStack }, 'videos-replica')
          : physicalName(cfg, 'videos'),
        existing: restore !== undefined,
        tags,
        versioned: true,
        expireAfterDays: tier.storage.noncurrentVersionDays,
        protect: tier.protectResources,
      },
      child,
    );
    const logs = privateBucket(
      `${name}-logs`,
      {
        bucketName: physicalName(cfg, 'cdn-logs'),
        tags,
        versioned: false,
        expireAfterDays: tier.storage.accessLogRetentionDays,
        allowLogDeliveryAcl: true,
        forceDestroy: true,
      },
      child,
    );

    const certificate = new acm.Certificate(
      `${name}-cert`,
      { domainName: hostname, validationMethod: 'DNS', tags },
      inUsEast1,
    );
    // Waits until the DNS validation record (a stack output) exists, so the distribution never
    // starts with a certificate it cannot use.
    const validation = new acm.CertificateValidation(
      `${name}-cert`,
      { certificateArn: certificate.arn },
      inUsEast1,
    );

    const rules: pulumi.Input<pulumi.Input<awsInput.wafv2.WebAclRule>[]> = [
      ...MANAGED_RULE_GROUPS.map((group, i) => ({
        name: group,
        priority: i + 1,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: group } },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: group, sampledRequestsEnabled: true },
      })),
      {
        name: 'rate-limit-per-ip',
        priority: MANAGED_RULE_GROUPS.length + 1,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: tier.waf.rateLimitPer5Min, aggregateKeyType: 'IP' } },
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          metricName: 'rate-limit-per-ip',
          sampledRequestsEnabled: true,
        },
      },
    ];
    const webAcl = new wafv2.WebAcl(
      `${name}-waf`,
      {
        name: physicalName(cfg, 'cdn'),
        scope: 'CLOUDFRONT',
        defaultAction: { allow: {} },
        rules,
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          metricName: physicalName(cfg, 'cdn'),
          sampledRequestsEnabled: true,
        },
        tags,
      },
      inUsEast1,
    );

    const oac = new cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        name: physicalName(cfg, 'videos'),
        description: 'CloudFront reads the videos bucket with SigV4',
        originAccessControlOriginType: 's3',
        signingBehavior: 'always',
        signingProtocol: 'sigv4',
      },
      child,
    );

    const originId = 'videos';
    const distribution = new cloudfront.Distribution(
      `${name}-distribution`,
      {
        enabled: true,
        comment: `Archibald videos (${cfg.stack})`,
        aliases: [hostname],
        isIpv6Enabled: true,
        httpVersion: 'http2and3',
        priceClass: 'PriceClass_100',
        origins: [
          { originId, domainName: assets.bucket.bucketRegionalDomainName, originAccessControlId: oac.id },
        ],
        defaultCacheBehavior: {
          targetOriginId: originId,
          viewerProtocolPolicy: 'redirect-to-https',
          allowedMethods: ['GET', 'HEAD', 'OPTIONS'],
          cachedMethods: ['GET', 'HEAD'],
          cachePolicyId: CACHING_OPTIMIZED,
          compress: true,
        },
        restrictions: { geoRestriction: { restrictionType: 'none' } },
        viewerCertificate: {
          acmCertificateArn: validation.certificateArn,
          sslSupportMethod: 'sni-only',
          minimumProtocolVersion: 'TLSv1.2_2021',
        },
        webAclId: webAcl.arn,
        loggingConfig: { bucket: logs.bucket.bucketDomainName, prefix: 'cloudfront/', includeCookies: false },
        tags,
      },
      child,
    );

    new s3.BucketPolicy(
      `${name}-assets`,
      {
        bucket: assets.bucket.id,
        policy: policyDocument([
          {
            Sid: 'CloudFrontReadsThroughOac',
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Resource: pulumi.interpolate`${assets.bucket.arn}/*`,
            Condition: { StringEquals: { 'AWS:SourceArn': distribution.arn } },
          },
          {
            Sid: 'TlsOnly',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Resource: [assets.bucket.arn, pulumi.interpolate`${assets.bucket.arn}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ]),
      },
      child,
    );

    this.bucket = assets.bucket;
    this.bucketVersioning = assets.versioning as s3.BucketVersioning;
    this.bucketName = assets.bucket.bucket;
    this.bucketArn = assets.bucket.arn;
    this.domainName = pulumi.output(hostname);
    this.baseUrl = pulumi.output(`https://${hostname}`);
    this.distributionDomainName = distribution.domainName;
    this.certificateValidationRecords = certificate.domainValidationOptions.apply((options) =>
      options.map((o) => ({
        name: o.resourceRecordName ?? '',
        type: o.resourceRecordType ?? '',
        value: o.resourceRecordValue ?? '',
      })),
    );
    this.registerOutputs({
      bucketName: this.bucketName,
      domainName: this.domainName,
      distributionDomain: distribution.domainName,
    });
  }
}
