import { BlockList, isIP } from 'node:net';

/** An IPv4-mapped IPv6 address as the IPv4 it is; anything else as given, lower case. */
const plain = (a: string): string => {
  const s = a.trim().toLowerCase();
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  return m ? m[1]! : s;
};

/**
 * The key a client is counted under: an IPv4 address itself, an IPv6 address by its /64 (one
 * host is usually given a whole /64, so counting single IPv6 addresses would count nothing).
 */
export function addressKey(address: string): string {
  const a = plain(address);
  if (isIP(a) !== 6) return a;
  const [head = '', tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Who is asking: the connection's peer, or, when the peer is one of the trusted proxies, the
 * nearest address in X-Forwarded-For that is not itself a trusted proxy (read from the right:
 * a client can write anything to the left of what its proxy appended).
 *
 * @example
 * const of = clientAddressResolver(['127.0.0.1']);
 * of('127.0.0.1', '198.51.100.9, 203.0.113.7'); // '203.0.113.7'
 * of('203.0.113.7', '10.0.0.1'); // '203.0.113.7': a stranger's header is ignored
 */
export function clientAddressResolver(trustedProxies: readonly string[]): (peer: string, xff?: string) => string {
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [ip = '', bits] = entry.split('/');
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(ip, type);
    else trusted.addSubnet(ip, Number(bits), type);
  }
  const isTrusted = (a: string) => {
    const v = isIP(a);
    return v !== 0 && trusted.check(a, v === 6 ? 'ipv6' : 'ipv4');
  };
  return (peer, xff) => {
    let address = plain(peer);
    if (trustedProxies.length === 0 || !xff || !isTrusted(address)) return address;
    const hops = xff.split(',').map(plain).reverse();
    for (const hop of hops) {
      if (isIP(hop) === 0) break;
      address = hop;
      if (!isTrusted(hop)) break;
    }
    return address;
  };
}
