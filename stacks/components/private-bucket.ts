import type * as pulumi from '@pulumi/pulumi';
import * as s3 from '@pulumi/aws/s3/index.js';

export interface PrivateBucketOptions {
  readonly bucketName: string;
  readonly tags: Record<string, string>;
  readonly versioned: boolean;
  /** Days non-current versions (or, unversioned, objects) are kept; undefined = forever. */
  readonly expireAfterDays?: number;
  /** CloudFront's legacy access logs are delivered with ACLs, so the log bucket must allow them. */
  readonly allowLogDeliveryAcl?: boolean;
  readonly forceDestroy?: boolean;
  /** Pulumi `protect` on the bucket itself (it holds data nothing else can rebuild). */
  readonly protect?: boolean;
  /**
   * Adopt this existing bucket instead of creating one (a DR stack's videos bucket is the source
   * stack's replica): read, never created empty; its settings stay with the stack that made it.
   */
  readonly existing?: boolean;
}

export interface PrivateBucket {
  readonly bucket: s3.Bucket;
  readonly versioning: s3.BucketVersioning | undefined;
}

/**
 * A bucket nobody can make public: public access blocked on all four switches, owner-enforced
 * objects (no ACLs) unless it receives access logs, SSE encryption with bucket keys, optional
 * versioning with a lifecycle for old versions.
 */
export function privateBucket(
  name: string,
  o: PrivateBucketOptions,
  opts: pulumi.CustomResourceOptions,
): PrivateBucket {
  if (o.existing)
    return { bucket: s3.Bucket.get(name, o.bucketName, undefined, opts), versioning: undefined };
  const bucket = new s3.Bucket(
    name,
    { bucket: o.bucketName, forceDestroy: o.forceDestroy ?? false, tags: o.tags },
    { ...opts, protect: o.protect ?? false },
  );
  new s3.BucketPublicAccessBlock(
    name,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new s3.BucketOwnershipControls(
    name,
    {
      bucket: bucket.id,
      rule: { objectOwnership: o.allowLogDeliveryAcl ? 'BucketOwnerPreferred' : 'BucketOwnerEnforced' },
    },
    opts,
  );
  new s3.BucketServerSideEncryptionConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
    },
    opts,
  );
  const versioning = o.versioned
    ? new s3.BucketVersioning(
        name,
        { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } },
        opts,
      )
    : undefined;
  if (o.expireAfterDays !== undefined) {
    new s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          o.versioned
            ? {
                id: 'expire-noncurrent-versions',
                status: 'Enabled',
                filter: {},
                noncurrentVersionExpiration: { noncurrentDays: o.expireAfterDays },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
              }
            : {
                id: 'expire-objects',
                status: 'Enabled',
                filter: {},
                expiration: { days: o.expireAfterDays },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
              },
        ],
      },
      { ...opts, dependsOn: versioning ? [versioning] : [] },
    );
  }
  return { bucket, versioning };
}
