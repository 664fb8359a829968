import type { Tier } from '../tiers.js';

export interface SubnetPlan {
  readonly public: readonly string[];
  readonly private: readonly string[];
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`invalid IPv4 address "${ip}"`);
  }
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [ip, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 28) {
    throw new Error(`invalid CIDR "${cidr}": expected a.b.c.d/n with n between 8 and 28`);
  }
  const base = ipToInt(ip);
  if (base % 2 ** (32 - prefix) !== 0) throw new Error(`invalid CIDR "${cidr}": host bits are set`);
  return { base, prefix };
}

export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return (
    i.prefix >= o.prefix &&
    Math.floor(i.base / 2 ** (32 - o.prefix)) === Math.floor(o.base / 2 ** (32 - o.prefix))
  );
}

export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/**
 * Splits the VPC range per AZ: the first half of the VPC holds the private subnets (pods and data
 * stores need the addresses), one equal slice per AZ slot; public subnets (load balancers, NAT)
 * are smaller slices of the second half. Slots are sized for 4 AZs so adding an AZ never moves an
 * existing subnet.
 */
export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
  const maxAzs = 4;
  if (!Number.isInteger(azCount) || azCount < 1 || azCount > maxAzs) {
    throw new Error(`azCount must be an integer between 1 and ${maxAzs}, got ${azCount}`);
  }
  const { base, prefix } = parseCidr(vpcCidr);
  const half = 2 ** (32 - prefix - 1);
  const privateSize = half / maxAzs;
  const publicSize = half / (maxAzs * 4);
  const privatePrefix = 32 - Math.log2(privateSize);
  const publicPrefix = 32 - Math.log2(publicSize);
  const azs = [...Array(azCount).keys()];
  return {
    private: azs.map((i) => `${intToIp(base + i * privateSize)}/${privatePrefix}`),
    public: azs.map((i) => `${intToIp(base + half + i * publicSize)}/${publicPrefix}`),
  };
}

export function natGatewayCount(tier: Tier): number {
  return tier.network.natPerAz ? tier.network.azCount : 1;
}
