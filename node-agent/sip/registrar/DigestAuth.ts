import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a nonce we issued stays valid; a stale one gets a fresh challenge with stale=true (RFC 7616 §3.3). */
export const NONCE_LIFETIME_MS = 5 * 60_000;

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** HA1 of RFC 7616 (MD5): what the node holds instead of a device's password. */
export const digestHa1 = (username: string, realm: string, password: string): string => md5(`${username}:${realm}:${password}`);

/** Parses an `Authorization: Digest k=v, k="v"` header value; undefined when it is not Digest or lacks a field. */
export function parseDigest(header: string | undefined): DigestCredentials | undefined {
  if (!header) return undefined;
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  const re = /([a-z0-9-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/gi;
  for (let p = re.exec(m[1]); p; p = re.exec(m[1])) params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  const { username, realm, nonce, uri, response } = params;
  if (username === undefined || realm === undefined || !nonce || uri === undefined || !response) return undefined;
  return { username, realm, nonce, uri, response, algorithm: params.algorithm, qop: params.qop, nc: params.nc, cnonce: params.cnonce, opaque: params.opaque };
}

/**
 * Digest (MD5, qop=auth) for the registrar. Nonces are stateless: a timestamp signed with a key of
 * this process, so any nonce we issued checks without a table and expires by itself.
 */
export class DigestAuth {
  private readonly key = randomBytes(32);

  constructor(
    readonly realm: string,
    private readonly now: () => number = Date.now,
  ) {}

  nonce(): string {
    const ts = this.now().toString(16);
    return `${ts}.${createHmac('sha256', this.key).update(ts).digest('hex').slice(0, 32)}`;
  }

  /** The WWW-Authenticate value of a 401. */
  challenge(stale = false): string {
    return `Digest realm="${this.realm}", nonce="${this.nonce()}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  /** Checks a response against the device's HA1: 'ok', 'stale' (right password, expired nonce: challenge again with stale=true) or 'bad'. */
  verify(c: DigestCredentials, method: string, username: string, ha1: string): 'ok' | 'stale' | 'bad' {
    if (c.username !== username || c.realm !== this.realm) return 'bad';
    if (c.algorithm && c.algorithm.toUpperCase() !== 'MD5') return 'bad';
    const ha2 = md5(`${method}:${c.uri}`);
    let expected: string;
    if (c.qop === undefined)
      expected = md5(`${ha1}:${c.nonce}:${ha2}`); // RFC 2069/2617 without qop
    else if (c.qop === 'auth' && c.nc && c.cnonce) expected = md5(`${ha1}:${c.nonce}:${c.nc}:${c.cnonce}:auth:${ha2}`);
    else return 'bad';
    const a = Buffer.from(expected);
    const b = Buffer.from(c.response.toLowerCase());
    if (a.length !== b.length || !timingSafeEqual(a, b)) return 'bad';
    return this.fresh(c.nonce) ? 'ok' : 'stale';
  }

  /** Ours (signature) and not older than NONCE_LIFETIME_MS. */
  private fresh(nonce: string): boolean {
    const [ts, sig] = nonce.split('.');
    if (!ts || !sig || !/^[0-9a-f]+$/.test(ts)) return false;
    const want = createHmac('sha256', this.key).update(ts).digest('hex').slice(0, 32);
    if (want.length !== sig.length || !timingSafeEqual(Buffer.from(want), Buffer.from(sig))) return false;
    const age = this.now() - parseInt(ts, 16);
    return age >= 0 && age <= NONCE_LIFETIME_MS;
  }
}
