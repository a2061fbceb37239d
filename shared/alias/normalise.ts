/**
 * Alias normalisation as the guide describes it (digest 2, §19.2): URI scheme prefixes
 * (`sip:`, `sips:`, `h323:`) are ignored, an appended `@<IP>` or `@<IP>:<port>` is ignored,
 * comparison is case-insensitive, and a domain name stays significant.
 */
const SCHEME = /^(?:sips?|h323):/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function isIpHost(host: string): boolean {
  if (IPV4.test(host)) return true;
  // [v6] or [v6]:port, or a bare v6 literal
  const bracketed = /^\[([0-9a-f:.]+)\]$/i.exec(host);
  return bracketed !== null || /^[0-9a-f]*:[0-9a-f:.]+$/i.test(host);
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end >= 0 ? host.slice(0, end + 1) : host;
  }
  // IPv4 with port: exactly one colon
  const colon = host.indexOf(':');
  return colon >= 0 && host.indexOf(':', colon + 1) < 0 ? host.slice(0, colon) : host;
}

export function normaliseAlias(raw: string): string {
  let alias = raw.trim().replace(SCHEME, '');
  // URI parameters and headers (`;transport=tcp`, `?x=y`) are not part of the alias.
  alias = alias.replace(/[;?].*$/, '');
  const at = alias.lastIndexOf('@');
  if (at >= 0) {
    const host = stripPort(alias.slice(at + 1));
    if (isIpHost(host)) alias = alias.slice(0, at);
  }
  return alias.toLowerCase();
}

/** "numbers, letters, dashes and dots" plus what the guide's own examples use (`_`, space, `@`, `+`). */
export const ALIAS_PATTERN = /^[A-Za-z0-9._\-@+: [\]]+$/;
