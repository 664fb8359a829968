import type * as pulumi from '@pulumi/pulumi';
import * as acm from '@pulumi/aws/acm/index.js';
import type { StackConfig } from './config.js';
import { awsTags } from './naming.js';

/** A DNS record the operator creates in the domain's zone so ACM can issue the certificate. */
export interface ValidationRecord {
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

export interface PublicCertificate {
  /** Resolves only once ACM has issued the certificate: a listener never gets a pending one. */
  readonly arn: pulumi.Output<string>;
  readonly domain: string;
  readonly validationRecords: pulumi.Output<ValidationRecord[]>;
}

/**
 * An ACM certificate for one public hostname, validated through DNS. The zone is not managed
 * here, so the validation records are a stack output for the operator to create; the
 * CertificateValidation waits until ACM sees them.
 */
export function publicCertificate(
  name: string,
  domain: string,
  cfg: StackConfig,
  component: string,
  parent: pulumi.Resource,
): PublicCertificate {
  const certificate = new acm.Certificate(
    name,
    { domainName: domain, validationMethod: 'DNS', tags: awsTags(cfg, component) },
    { parent },
  );
  const validation = new acm.CertificateValidation(name, { certificateArn: certificate.arn }, { parent });
  return {
    arn: validation.certificateArn,
    domain,
    validationRecords: certificate.domainValidationOptions.apply((options) =>
      options.map((o) => ({
        name: o.resourceRecordName ?? '',
        type: o.resourceRecordType ?? '',
        value: o.resourceRecordValue ?? '',
      })),
    ),
  };
}
