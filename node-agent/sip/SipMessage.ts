import { z } from 'zod';

/**
 * A small RFC 3261 message parser/serializer. The npm `sip` package (kirm) is unmaintained since
 * 2019 and untyped, and drachtio needs its own server: the node needs only a strict parser that
 * refuses rather than guesses, so it is written here.
 */

/** Compact header forms (RFC 3261 §7.3.3) → full names, all kept lower case. */
const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
};

/** Largest message we read: bigger ones are refused with 413 (UDP) or the connection closed (TCP). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const token = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const requestLine = z.object({
  method: z.string().regex(token, 'bad method'),
  uri: z.string().regex(/^(sips?|tel):\S+$/i, 'bad Request-URI'),
  version: z.literal('SIP/2.0'),
});
const statusLine = z.object({ version: z.literal('SIP/2.0'), status: z.coerce.number().int().min(100).max(699), reason: z.string() });
/** The headers every request must carry (RFC 3261 §8.1.1). */
const mandatory = z.object({
  via: z.array(z.string().regex(/^SIP\/2\.0\/(UDP|TCP|TLS|SCTP|WS|WSS)\s+\S+/i, 'bad Via')).min(1),
  from: z.array(z.string().min(1)).length(1),
  to: z.array(z.string().min(1)).length(1),
  'call-id': z.array(z.string().min(1)).length(1),
  cseq: z.array(z.string().regex(/^\d{1,10}\s+[A-Za-z0-9\-.!%*_+`'~]+$/, 'bad CSeq')).length(1),
});

export type SipHeaders = Map<string, string[]>;

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}
export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}
export type SipMessage = SipRequest | SipResponse;

/** Why a message was refused, and whether enough of it was read to answer (a request with its Via etc.). */
export class SipParseError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413,
    /** The request's headers when they were readable, so a 400 can be sent back. */
    readonly partial?: { method: string; uri: string; headers: SipHeaders },
  ) {
    super(message);
  }
}

/** Splits one header's value on commas that are outside quotes and <> (Via, Contact may be lists). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

const LIST_HEADERS = new Set(['via', 'contact', 'route', 'record-route', 'allow', 'supported', 'require']);

/** Where the header block ends (index of the blank line's first CR), or -1. */
export function headerEnd(buf: Buffer): number {
  return buf.indexOf('\r\n\r\n');
}

/**
 * Parses one whole message (for TCP, cut out with `frameLength`; `tooLarge` when the stream declared
 * more than the limit). Throws SipParseError.
 */
export function parseSipMessage(buf: Buffer, tooLarge = buf.length > MAX_MESSAGE_BYTES): SipMessage {
  const end = headerEnd(buf);
  // A message too large is still read up to its headers, so a readable request gets its 413.
  if (tooLarge && (end < 0 || end > MAX_MESSAGE_BYTES)) throw new SipParseError('Message too large', 413);
  if (end < 0) throw new SipParseError('No end of headers', 400);
  const head = buf.subarray(0, end).toString('utf8');
  const lines = head.split('\r\n');
  // Folded lines (RFC 3261 §7.3.1) join the header above them.
  const unfolded: string[] = [];
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) unfolded[unfolded.length - 1] += ' ' + line.trim();
    else unfolded.push(line);
  }
  const headers: SipHeaders = new Map();
  let headerError: string | undefined;
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (!token.test(name)) {
      headerError ??= 'Malformed header line';
      continue;
    }
    const full = COMPACT[name] ?? name;
    const value = line.slice(colon + 1).trim();
    const values = LIST_HEADERS.has(full) ? splitList(value) : [value];
    headers.set(full, [...(headers.get(full) ?? []), ...values]);
  }
  const first = (lines[0] ?? '').split(' ');
  let start: { kind: 'request'; method: string; uri: string } | { kind: 'response'; status: number; reason: string };
  if (first[0] === 'SIP/2.0') {
    const s = statusLine.safeParse({ version: first[0], status: first[1], reason: first.slice(2).join(' ') });
    if (!s.success || !/^\d{3}$/.test(first[1] ?? '')) throw new SipParseError('Bad Status-Line', 400);
    start = { kind: 'response', status: s.data.status, reason: s.data.reason };
  } else {
    const r = requestLine.safeParse({ method: first[0], uri: first[1], version: first[2] });
    if (!r.success || first.length !== 3) throw new SipParseError('Bad Request-Line', 400);
    start = { kind: 'request', method: r.data.method.toUpperCase(), uri: r.data.uri };
  }
  const partial = start.kind === 'request' ? { method: start.method, uri: start.uri, headers } : undefined;
  if (headerError) throw new SipParseError(headerError, 400, partial);
  const m = mandatory.safeParse(Object.fromEntries(['via', 'from', 'to', 'call-id', 'cseq'].map((h) => [h, headers.get(h) ?? []])));
  if (!m.success) throw new SipParseError(`Missing or bad ${String(m.error.issues[0]?.path[0] ?? 'header')}`, 400, partial);
  const cseqMethod = (m.data.cseq[0]?.split(/\s+/)[1] ?? '').toUpperCase();
  if (start.kind === 'request' && cseqMethod !== start.method) throw new SipParseError('CSeq method does not match', 400, partial);
  if (tooLarge) throw new SipParseError('Message too large', 413, partial);
  const bodyBytes = buf.subarray(end + 4);
  const lengthHeader = headers.get('content-length');
  let body = bodyBytes;
  if (lengthHeader) {
    if (lengthHeader.length !== 1 || !/^\d{1,6}$/.test(lengthHeader[0] ?? '')) throw new SipParseError('Bad Content-Length', 400, partial);
    const length = Number(lengthHeader[0]);
    if (length > bodyBytes.length) throw new SipParseError('Content-Length larger than the message', 400, partial);
    body = bodyBytes.subarray(0, length);
  }
  return start.kind === 'request' ? { ...start, headers, body } : { ...start, headers, body };
}

/** frameLength: the stream cannot be framed (no or bad Content-Length). */
export const UNFRAMEABLE = -1;
/** frameLength: the next message is larger than MAX_MESSAGE_BYTES. */
export const TOO_LARGE = -2;

/**
 * For a TCP stream: the length of the first whole message in `buf`, 0 when more bytes are
 * needed, UNFRAMEABLE or TOO_LARGE.
 */
export function frameLength(buf: Buffer): number {
  // Keep-alive CRLFs between messages (RFC 5626) are skipped by the caller.
  const end = headerEnd(buf);
  if (end < 0) return buf.length > MAX_MESSAGE_BYTES ? TOO_LARGE : 0;
  const head = buf.subarray(0, end).toString('utf8');
  const match = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*(?=\r\n|$)/i.exec(head);
  if (!match) return UNFRAMEABLE; // Content-Length is mandatory on streams (RFC 3261 §18.3)
  const total = end + 4 + Number(match[1]);
  if (total > MAX_MESSAGE_BYTES) return TOO_LARGE;
  return buf.length >= total ? total : 0;
}

const CANONICAL: Record<string, string> = { 'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate' };
const canonical = (name: string) => CANONICAL[name] ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

export function serializeSipMessage(msg: SipMessage): Buffer {
  const startLine = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines = [startLine];
  for (const [name, values] of msg.headers) {
    if (name === 'content-length') continue;
    for (const v of values) lines.push(`${canonical(name)}: ${v}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), msg.body]);
}

/** A response to `req` (RFC 3261 §8.2.6): Via, From, Call-ID, CSeq copied; To gets our tag if it has none. */
export function makeResponse(req: { headers: SipHeaders }, status: number, reason: string, toTag?: string, extra: [string, string][] = []): SipResponse {
  const headers: SipHeaders = new Map();
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    const v = req.headers.get(name);
    if (v) headers.set(name, [...v]);
  }
  const to = headers.get('to');
  if (to?.[0] !== undefined && toTag && status > 100 && !/;\s*tag=/i.test(to[0])) to[0] = `${to[0]};tag=${toTag}`;
  for (const [k, v] of extra) headers.set(k.toLowerCase(), [...(headers.get(k.toLowerCase()) ?? []), v]);
  return { kind: 'response', status, reason, headers, body: Buffer.alloc(0) };
}

/** A header parameter (e.g. `branch` of the top Via, `tag` of To). */
export function headerParam(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  const m = new RegExp(`;\\s*${name}=([^;,\\s>]+)`, 'i').exec(value);
  return m?.[1];
}

/** The user part of a SIP URI (`sip:alias@domain` → `alias`), undefined when there is none. */
export function uriUser(uri: string): string | undefined {
  const m = /^sips?:([^@;?]+)@/i.exec(uri.trim());
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1]; // a stray % is kept as it is
  }
}
