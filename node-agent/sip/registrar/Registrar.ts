import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { headerParam, makeResponse, type SipRequest, type SipResponse } from '../SipMessage.js';
import { SIP_REGISTRAR_REALM } from '../../../shared/node-protocol/messages.js';
import { DigestAuth, parseDigest } from './DigestAuth.js';
import { systemClock, type Clock, type ClockTimer } from '../../../shared/time/Clock.js';

/** One entry of the device allow-list, as the node holds it (Users & Devices > Device aliases). */
export interface RegistrarDevice {
  alias: string;
  enableSip: boolean;
  /** Blank: the device is not challenged (guide §16.5). */
  username?: string;
  /** MD5(username:realm:password); the node never holds the password. */
  ha1?: string;
}

/** Services > Registrar (guide: "Configuring the registrar"). */
export interface RegistrarSettings {
  enabled: boolean;
  strategy: 'adaptive' | 'basic';
  adaptiveMin: number;
  adaptiveMax: number;
  basicMin: number;
  basicMax: number;
  /** Bounds for devices behind NAT (guide: 60-90 s), to keep the pinhole open; absent = the strategy's. */
  nattedMin?: number;
  nattedMax?: number;
}

export const DEFAULT_REGISTRAR_SETTINGS: RegistrarSettings = {
  enabled: true,
  strategy: 'adaptive',
  adaptiveMin: 60,
  adaptiveMax: 3600,
  basicMin: 60,
  basicMax: 300,
  nattedMin: 60,
  nattedMax: 90,
};

/** Registrations on one node at which Adaptive reaches its maximum interval (it grows linearly up to there). */
export const ADAPTIVE_FULL_LOAD = 1000;

/** One device's registration of an alias (status `registration_alias`). */
export interface Registration {
  registrationId: string;
  alias: string;
  username?: string;
  protocol: 'SIP';
  contact: string;
  remoteAddress: string;
  /** The port the REGISTER came from: where a NATed device is reached. */
  remotePort: number;
  transport: 'udp' | 'tcp' | 'tls';
  isNatted: boolean;
  vendor?: string;
  startTime: number;
  expiresAt: number;
}

export interface RegistrarPeer {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
}

export interface RegistrarOptions {
  devices(): readonly RegistrarDevice[];
  settings?(): RegistrarSettings;
  maintenanceMode(): boolean;
  /** Called with every registration after each change (add, refresh, remove, expiry). */
  onChange?(registrations: Registration[]): void;
  realm?: string;
  log: Logger;
  /** Expiry and the sweeper's timer (a test moves a ManualClock instead of waiting). */
  clock?: Clock;
}

const DEFAULT_EXPIRES = 3600;

/** The node's SIP registrar for the device allow-list: Digest, the guide's answers, refresh bounds, expiry. */
export class Registrar {
  /** alias → contact URI → registration (several devices may register the same alias). */
  private readonly bindings = new Map<string, Map<string, Registration>>();
  private readonly auth: DigestAuth;
  private readonly now: () => number;
  private readonly sweeper: ClockTimer;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: RegistrarOptions) {
    this.clock = opts.clock ?? systemClock;
    this.now = this.clock.now;
    this.auth = new DigestAuth(opts.realm ?? SIP_REGISTRAR_REALM, this.now);
    this.log = opts.log.child({ part: 'registrar' });
    this.sweeper = this.clock.setInterval(() => this.expire(), 1000).unref();
  }

  stop(): void {
    this.clock.clearInterval(this.sweeper);
  }

  /** Every live registration. */
  list(): Registration[] {
    return [...this.bindings.values()].flatMap((m) => [...m.values()]);
  }

  /** The registrations of an alias (calls to it fork to each). */
  lookup(alias: string): Registration[] {
    return [...(this.bindings.get(alias)?.values() ?? [])].filter((r) => r.expiresAt > this.now());
  }

  /** Answers one REGISTER. Never throws on bad input: a request it cannot use gets 400. */
  handle(req: SipRequest, peer: RegistrarPeer): SipResponse {
    const settings = this.opts.settings?.() ?? DEFAULT_REGISTRAR_SETTINGS;
    if (this.opts.maintenanceMode()) return makeResponse(req, 503, 'Service Unavailable', tag());
    if (!settings.enabled) return makeResponse(req, 403, 'Forbidden', tag());
    const alias = addressOfRecord(req.headers.get('to')?.[0]);
    if (!alias) return makeResponse(req, 400, 'Bad Request (no To URI)', tag());
    const device = this.opts.devices().find((d) => d.alias === alias);
    if (!device || !device.enableSip) {
      this.log.info({ alias, remote: peer.address }, 'SIP registration refused: alias not found or not enabled for SIP');
      return makeResponse(req, 403, 'Forbidden', tag());
    }
    if (device.username) {
      const creds = parseDigest(req.headers.get('authorization')?.[0]);
      const result = creds ? this.auth.verify(creds, 'REGISTER', device.username, device.ha1 ?? '') : 'bad';
      if (result !== 'ok') {
        // The guide: wrong credentials get 401 again (the pair repeats), not 403.
        if (creds) this.log.info({ alias, remote: peer.address, result }, 'SIP registration authentication failed');
        return makeResponse(req, 401, 'Unauthorized', tag(), [['WWW-Authenticate', this.auth.challenge(result === 'stale')]]);
      }
    }

    const contacts = (req.headers.get('contact') ?? []).flatMap(splitContacts);
    const headerExpires = parseExpires(req.headers.get('expires')?.[0]);
    const behindNat = natted(req.headers.get('via')?.[0] ?? '', peer);
    const nat = behindNat && settings.nattedMin !== undefined && settings.nattedMax !== undefined;
    const min = nat ? settings.nattedMin! : settings.strategy === 'basic' ? settings.basicMin : settings.adaptiveMin;
    const max = nat ? settings.nattedMax! : settings.strategy === 'basic' ? settings.basicMax : settings.adaptiveMax;
    const current = this.bindings.get(alias) ?? new Map<string, Registration>();

    if (contacts.length === 1 && contacts[0] === '*') {
      if (headerExpires !== 0) return makeResponse(req, 400, 'Bad Request (Contact * needs Expires: 0)', tag());
      for (const r of current.values()) this.log.info({ alias, registrationId: r.registrationId, reason: 'Unregistered' }, 'Registration deleted');
      this.bindings.delete(alias);
      this.changed();
      return makeResponse(req, 200, 'OK', tag());
    }

    const now = this.now();
    for (const c of contacts) {
      const uri = contactUri(c);
      if (!uri) return makeResponse(req, 400, 'Bad Request (bad Contact)', tag());
      const requested = parseExpires(headerParam(c, 'expires')) ?? headerExpires ?? DEFAULT_EXPIRES;
      if (requested === 0) {
        const gone = current.get(uri);
        if (gone) this.log.info({ alias, registrationId: gone.registrationId, reason: 'Unregistered' }, 'Registration deleted');
        current.delete(uri);
        continue;
      }
      // The guide: a request below the minimum is rejected (RFC 3261 §10.3: 423 with Min-Expires).
      if (requested < min) return makeResponse(req, 423, 'Interval Too Brief', tag(), [['Min-Expires', String(min)]]);
      const expires = this.interval(nat ? 'basic' : settings.strategy, requested, min, max);
      const existing = current.get(uri);
      const via = req.headers.get('via')?.[0] ?? '';
      const reg: Registration = {
        registrationId: existing?.registrationId ?? randomUUID(),
        alias,
        username: device.username || undefined,
        protocol: 'SIP',
        contact: uri,
        remoteAddress: peer.address,
        remotePort: peer.port,
        transport: peer.transport,
        isNatted: natted(via, peer),
        vendor: req.headers.get('user-agent')?.[0],
        startTime: existing?.startTime ?? now,
        expiresAt: now + expires * 1000,
      };
      if (!existing) this.log.info({ alias, protocol: 'SIP', registrationId: reg.registrationId, natted: reg.isNatted }, 'Registration added');
      current.set(uri, reg);
    }
    if (current.size) this.bindings.set(alias, current);
    else this.bindings.delete(alias);
    this.changed();

    // 200 lists every current binding of the AOR with its own expiry (RFC 3261 §10.3 step 8).
    const extra: [string, string][] = [...current.values()].map((r) => [
      'Contact',
      `<${r.contact}>;expires=${Math.max(0, Math.round((r.expiresAt - now) / 1000))}`,
    ]);
    const first = [...current.values()][0];
    if (first) extra.push(['Expires', String(Math.round((first.expiresAt - now) / 1000))]);
    extra.push(['Date', new Date(now).toUTCString()]);
    return makeResponse(req, 200, 'OK', tag(), extra);
  }

  /** Basic: the request clamped to [min, max]. Adaptive: the ceiling grows with this node's registrations. */
  private interval(strategy: RegistrarSettings['strategy'], requested: number, min: number, max: number): number {
    if (strategy === 'basic') return Math.min(Math.max(requested, min), max);
    const load = Math.min(1, this.list().length / ADAPTIVE_FULL_LOAD);
    const ceiling = Math.round(min + (max - min) * Math.max(load, 0.05));
    return Math.min(Math.max(requested, min), Math.max(min, ceiling));
  }

  private expire(): void {
    const now = this.now();
    let any = false;
    for (const [alias, m] of this.bindings) {
      for (const [uri, r] of m)
        if (r.expiresAt <= now) {
          m.delete(uri);
          any = true;
          this.log.info({ alias, protocol: 'SIP', registrationId: r.registrationId, reason: 'Registration expired' }, 'Registration deleted');
        }
      if (!m.size) this.bindings.delete(alias);
    }
    if (any) this.changed();
  }

  private changed(): void {
    try {
      this.opts.onChange?.(this.list());
    } catch (err) {
      this.log.warn({ err }, 'Registration report failed');
    }
  }
}

const tag = (): string => randomUUID().slice(0, 8);

/** `"Bob" <sip:bob@example.com>;tag=x` → `bob@example.com` (the full alias with its domain, as the guide matches). */
export function addressOfRecord(to: string | undefined): string | undefined {
  if (!to) return undefined;
  const m = /<?sips?:([^>;?\s]+)/i.exec(to);
  if (!m?.[1]) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

function contactUri(contact: string): string | undefined {
  const m = /<([^>]+)>/.exec(contact) ?? /^\s*([^;\s]+)/.exec(contact);
  const uri = m?.[1]?.trim();
  return uri && /^sips?:/i.test(uri) ? uri : undefined;
}

/** Contact values separated by commas outside <> and quotes. */
function splitContacts(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function parseExpires(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d{1,10}\s*$/.test(v)) return undefined;
  return parseInt(v, 10);
}

/** Behind a NAT when the Via's sent-by differs from where the packet came from. */
function natted(via: string, peer: RegistrarPeer): boolean {
  const m = /^SIP\/2\.0\/[A-Z]+\s+([^;:\s]+)(?::(\d+))?/i.exec(via.trim());
  if (!m) return false;
  return m[1] !== peer.address || (peer.transport === 'udp' && m[2] !== undefined && Number(m[2]) !== peer.port);
}
