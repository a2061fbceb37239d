import { describe, expect, it } from 'vitest';
import { TrustedProxies } from './TrustedProxies.js';

describe('TrustedProxies', () => {
  it('trusts nothing until networks are configured', () => {
    const t = new TrustedProxies();
    expect(t.trusts('127.0.0.1')).toBe(false);
  });

  it('matches IPv4 and IPv6 networks, IPv4-mapped peers, and bare addresses as single hosts', () => {
    const t = new TrustedProxies();
    t.apply(['10.1.0.0/16', '2001:db8::/32', '192.0.2.9', 'not-an-address/8', '10.0.0.0/99']);
    expect(t.size).toBe(3);
    expect(t.trusts('10.1.200.3')).toBe(true);
    expect(t.trusts('::ffff:10.1.0.1')).toBe(true);
    expect(t.trusts('10.2.0.1')).toBe(false);
    expect(t.trusts('2001:db8:1::5')).toBe(true);
    expect(t.trusts('2001:db9::5')).toBe(false);
    expect(t.trusts('192.0.2.9')).toBe(true);
    expect(t.trusts('192.0.2.10')).toBe(false);
    expect(t.trusts('garbage')).toBe(false);
    t.apply([]);
    expect(t.trusts('10.1.200.3')).toBe(false);
  });
});
