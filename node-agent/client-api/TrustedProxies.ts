import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** `::ffff:10.0.0.1` is how an IPv4 client shows on a dual-stack socket: compare it as 10.0.0.1. */
const plain = (address: string) => (address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address);

/**
 * The reverse proxies the node trusts (global setting "Trusted proxy addresses", address/prefix
 * each). Fastify asks it about each hop, from the socket's peer leftwards through
 * `X-Forwarded-For`: the client's address is the rightmost one not trusted. With none configured
 * the peer is the client and `X-Forwarded-For` is ignored, so a caller cannot choose its address.
 */
export class TrustedProxies {
  private list = new BlockList();
  private count = 0;

  /** Takes the configured networks; entries that are not address/prefix are skipped. */
  apply(networks: readonly string[]): void {
    const list = new BlockList();
    let count = 0;
    for (const network of networks) {
      const m = /^(.+)\/(\d{1,3})$/.exec(network.trim());
      const [address, prefix] = m ? [m[1]!, Number(m[2])] : [network.trim(), NaN];
      const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
      if (!type) continue;
      const bits = Number.isNaN(prefix) ? (type === 'ipv4' ? 32 : 128) : prefix;
      if (bits > (type === 'ipv4' ? 32 : 128)) continue;
      list.addSubnet(address, bits, type);
      count++;
    }
    this.list = list;
    this.count = count;
  }

  get size(): number {
    return this.count;
  }

  /** Fastify's `trustProxy` function: is this hop one of ours? */
  trusts = (address: string): boolean => {
    if (this.count === 0) return false;
    const a = plain(address);
    const type = isIPv4(a) ? 'ipv4' : isIPv6(a) ? 'ipv6' : null;
    return type !== null && this.list.check(a, type);
  };
}
