/**
 * RFC 5424 syslog messages built from pino's JSON lines, and RFC 6587 octet-counting framing.
 *
 * Written here rather than taken from a library: the only logging library installed is pino, and
 * its syslog transports (pino-syslog and the like) are not in node_modules and may not be added.
 * The format is small: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`.
 */

/** Syslog facilities the guide names (System > Syslog servers). */
export const FACILITY = {
  /** Administrator log. */
  local0: 16,
  /** Support log. */
  local2: 18,
  /** Linux audit log. */
  local6: 22,
  /** Web server log. */
  local7: 23,
} as const;

/** RFC 5424 severities. */
export const SEVERITY = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

/** pino level number → syslog severity: fatal → crit, error → err, warn → warning, info → info, debug/trace → debug. */
export function severityOfPinoLevel(level: number): number {
  if (level >= 60) return SEVERITY.crit;
  if (level >= 50) return SEVERITY.err;
  if (level >= 40) return SEVERITY.warning;
  if (level >= 30) return SEVERITY.info;
  return SEVERITY.debug;
}

/** The level names of the guide's log line format (DEBUG < INFO < WARNING < ERROR). */
function levelName(level: number): string {
  if (level >= 60) return 'CRITICAL';
  if (level >= 50) return 'ERROR';
  if (level >= 40) return 'WARNING';
  if (level >= 30) return 'INFO';
  return 'DEBUG';
}

/**
 * RFC 5426 §3.2: receivers SHOULD accept datagrams of up to 2048 octets; longer UDP messages are cut
 * there rather than relying on IP fragmentation and larger receive buffers.
 */
export const UDP_MAX_OCTETS = 2048;
/** Cap for TCP/TLS messages (rsyslog's default maxMessageSize is 8 KiB). */
export const STREAM_MAX_OCTETS = 8192;

export interface SyslogMessage {
  facility: number;
  severity: number;
  /** Milliseconds since the epoch; written in UTC (the guide: timestamps are always UTC). */
  time: number;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  msg: string;
}

/** An RFC 5424 header field: printable US-ASCII without spaces, at most `max` octets, `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG` (no structured data; MSG without BOM, i.e. MSG-ANY). */
export function formatRfc5424(m: SyslogMessage): string {
  const pri = m.facility * 8 + m.severity;
  const ts = Number.isFinite(m.time) ? new Date(m.time).toISOString() : new Date().toISOString();
  return `<${pri}>1 ${ts} ${headerField(m.hostname, 255)} ${headerField(m.appName, 48)} ${headerField(m.procId, 128)} ${headerField(m.msgId, 32)} - ${m.msg}`;
}

/** The message as UTF-8, cut to at most `max` octets without splitting a character. */
export function truncateUtf8(text: string, max: number): Buffer {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return buf;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end);
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN counting octets. */
export function octetFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** Splits an octet-counted stream into messages; returns them and the unconsumed rest. */
export function parseOctetFrames(data: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let pos = 0;
  for (;;) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = Number(data.subarray(pos, sp).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0) throw new Error(`bad octet-counting frame at ${pos}`);
    if (data.length < sp + 1 + len) break;
    messages.push(data.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    pos = sp + 1 + len;
  }
  return { messages, rest: data.subarray(pos) };
}

/** Keys whose values never leave the node, whatever a log call passes (PINs, passwords, keys, tokens). */
const SECRET_KEY = /pass(word|wd)?$|secret|credential|private_?key|^(guest_?)?pin$|token$|^authorization$|^cookie$/i;
export const REDACTED = '[redacted]';

function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[…]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

/** `"..."` with backslash, quote and control characters escaped, so one message stays one line. */
function quote(s: string): string {
  const escaped = s
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, ' ');
  return `"${escaped}"`;
}

/** pino's own fields, and the bindings that become the header or the module name. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'part', 'node', 'v']);

export interface ParsedLogLine {
  level: number;
  time: number;
  /** Module: `node.<part>` (e.g. node.conference), as the guide's `name` field. */
  module: string;
  /** The part (e.g. `conference`), used as MSGID. */
  part: string;
  /** `LEVEL module Message="..." key="value" ...` — the guide's log line `level name details`. */
  text: string;
}

/**
 * One pino JSON line → the parts of a syslog message; null for a line that is not a pino record.
 * For the management node's lines (`management`): the module's first part is `management` when the
 * record has no `name`, and `node` stays in the details (there it names the node a line is about;
 * on a node it is the node itself, already the HOSTNAME).
 */
export function parsePinoLine(line: string, source: 'node' | 'management' = 'node'): ParsedLogLine | null {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return null;
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return null;
  const r = rec as Record<string, unknown>;
  const level = typeof r.level === 'number' ? r.level : 30;
  const time = typeof r.time === 'number' ? r.time : Date.now();
  const part = typeof r.part === 'string' ? r.part : '';
  const base = typeof r.name === 'string' ? r.name : source;
  const module = part ? `${base}.${part}` : base;
  const details: string[] = [`Message=${quote(typeof r.msg === 'string' ? r.msg : '')}`];
  for (const [k, v] of Object.entries(r)) {
    if ((OWN_FIELDS.has(k) && !(k === 'node' && source === 'management')) || v === undefined) continue;
    if (SECRET_KEY.test(k)) {
      details.push(`${k}=${quote(REDACTED)}`);
      continue;
    }
    const safe = redact(v);
    details.push(`${k}=${quote(typeof safe === 'string' ? safe : (JSON.stringify(safe) ?? ''))}`);
  }
  return { level, time, module, part, text: `${levelName(level)} ${module} ${details.join(' ')}` };
}
