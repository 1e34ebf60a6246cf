/**
 * Which network addresses the server may connect to on a client's or a partner's behalf
 * (OWASP SSRF prevention): only globally routable unicast ones. Loopback, private, shared
 * (CGNAT), link-local, unique-local, multicast, documentation, benchmarking and reserved ranges
 * are refused, for IPv4, IPv6 and IPv4 written inside IPv6 (`::ffff:127.0.0.1`, NAT64, 6to4),
 * so a URL cannot reach the database, a cloud metadata service or an admin port behind us.
 */
import { BlockList, isIP } from 'node:net';

/** RFC 6890 special-purpose IPv4 ranges, and multicast (RFC 5771) and reserved (RFC 1112). */
const IPV4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/**
 * RFC 6890 / RFC 4291 special-purpose IPv6 ranges. `::/96` (IPv4-compatible, deprecated) and
 * the IPv4-embedding prefixes are refused outright rather than decoded: nothing public needs them.
 */
const IPV6_BLOCKED: [string, number][] = [
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const blocked = new BlockList();
for (const [net, prefix] of IPV4_BLOCKED) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of IPV6_BLOCKED) blocked.addSubnet(net, prefix, 'ipv6');

/**
 * The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) stands for,
 * however it is written: the WHATWG URL parser gives IPv6 its one canonical form first.
 */
function unmapIpv4(ipv6: string): string | null {
  let canonical: string;
  try {
    canonical = new URL(`http://[${ipv6}]/`).hostname;
  } catch {
    return null;
  }
  const hex = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!hex) return null;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/**
 * True when `address` (an IP literal, brackets allowed) is globally routable unicast, the only
 * kind an outbound request may reach by default; false for anything else, malformed included.
 */
export function isPublicAddress(address: string): boolean {
  const ip = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return !blocked.check(ip, 'ipv4');
  if (family !== 6) return false;
  const mapped = unmapIpv4(ip);
  if (mapped) return !blocked.check(mapped, 'ipv4');
  return !blocked.check(ip, 'ipv6');
}
