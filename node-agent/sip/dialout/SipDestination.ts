import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { OutgoingCallOptions } from '../SipServer.js';

type Peer = OutgoingCallOptions['peer'];

/** Where a dialled SIP alias goes: its Request-URI and the addresses the INVITE may be sent to. */
export interface SipDestination {
  /** The alias without `sip:`, as the registrar keys registrations. */
  alias: string;
  uri: string;
  /** The first target; unset for an alias without a host: only a registration can take it. */
  peer?: Peer;
  /** Every target in the order RFC 3263 gives (SRV priority and weight): the next is tried when one does not answer. */
  peers?: Peer[];
}

/** A destination the node cannot call (the reason goes in the participant's disconnect reason). */
export class SipDestinationError extends Error {
  override readonly name = 'SipDestinationError';
}

const URI = /^(?:sips?:)?(?:([^@;?\s]+)@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^?\s]*)?)$/;
type Transport = Peer['transport'];
const DEFAULT_PORT: Record<Transport, number> = { udp: 5060, tcp: 5060, tls: 5061 };
/** NAPTR services (RFC 3263 §4.1) and the SRV prefixes of each transport. */
const NAPTR_SERVICE: Record<string, Transport> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls' };
const SRV_PREFIX: Record<Transport, string> = { udp: '_sip._udp', tcp: '_sip._tcp', tls: '_sips._tcp' };

/** The DNS servers SIP lookups ask (null: the system's resolver, hosts file included). */
let resolver: Resolver | null = null;

/** Sends SIP's DNS lookups (NAPTR, SRV, A) to these servers (`address[:port]`); empty: the system's again. */
export function useSipDnsServers(servers: readonly string[]): void {
  if (servers.length === 0) {
    resolver = null;
    return;
  }
  resolver = new Resolver({ timeout: 1_000, tries: 2 });
  resolver.setServers([...servers]);
}

/**
 * Reads `alias`, `user@host[:port]` or a SIP URI with `;transport=`, and finds where to send the
 * INVITE as RFC 3263 says: an address is used as it is; a name with a port is looked up by A; a name
 * without a port by NAPTR (the transports it offers, in its order), else SRV for each transport we
 * speak (UDP, TCP, TLS; TLS only for `sips:`), else A on the transport's default port.
 */
export async function resolveSipDestination(destination: string): Promise<SipDestination> {
  const text = destination.trim();
  const m = URI.exec(text);
  if (!m) throw new SipDestinationError(`Not a SIP address: ${destination}`);
  const [, user, rawHost, portText, params] = m;
  const alias = text.replace(/^sips?:/i, '').split(';')[0]!;
  // A bare word is an alias (a registered device), not a host.
  if (!user) return { alias, uri: `sip:${alias}` };
  const host = rawHost!.replace(/^\[|\]$/g, '');
  const transportParam = /;transport=(udp|tcp|tls)/i.exec(params ?? '')?.[1]?.toLowerCase() as Transport | undefined;
  const secure = /^sips:/i.test(text);
  const port = portText ? Number(portText) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new SipDestinationError(`Bad port in ${destination}`);
  const peers = await targets(host, port, transportParam ?? (secure ? 'tls' : undefined), secure);
  if (peers.length === 0) throw new SipDestinationError(`Cannot resolve ${host}`);
  return {
    alias,
    uri: `sip:${user}@${rawHost}${portText ? `:${portText}` : ''}${transportParam ? `;transport=${transportParam}` : ''}`,
    peer: peers[0]!,
    peers,
  };
}

async function targets(host: string, port: number | undefined, transport: Transport | undefined, secure: boolean): Promise<Peer[]> {
  if (isIP(host)) return [{ transport: transport ?? 'udp', address: host, port: port ?? DEFAULT_PORT[transport ?? 'udp'] }];
  if (port !== undefined) return (await addresses(host)).map((address) => ({ transport: transport ?? 'udp', address, port }));
  // RFC 3263 §4.1: NAPTR tells the transports when none is given.
  let services: { transport: Transport; srv: string }[] = [];
  if (!transport) {
    const naptr = await ask(() => dns().resolveNaptr(host));
    // No DNS server answers (an offline machine): straight to the host's address, not one timeout per SRV name.
    if (naptr === null) return (await addresses(host)).map((address) => ({ transport: 'udp' as const, address, port: DEFAULT_PORT.udp }));
    services = naptr
      .filter((r) => r.flags.toLowerCase() === 's' && NAPTR_SERVICE[r.service.toUpperCase()] !== undefined && r.replacement)
      .filter((r) => !secure || NAPTR_SERVICE[r.service.toUpperCase()] === 'tls')
      .sort((a, b) => a.order - b.order || a.preference - b.preference)
      .map((r) => ({ transport: NAPTR_SERVICE[r.service.toUpperCase()]!, srv: r.replacement }));
  }
  if (services.length === 0) {
    const wanted: Transport[] = transport ? [transport] : secure ? ['tls'] : ['udp', 'tcp', 'tls'];
    services = wanted.map((t) => ({ transport: t, srv: `${SRV_PREFIX[t]}.${host}` }));
  }
  const out: Peer[] = [];
  for (const s of services) {
    const records = orderSrv((await ask(() => dns().resolveSrv(s.srv))) ?? []);
    for (const r of records) for (const address of await addresses(r.name)) out.push({ transport: s.transport, address, port: r.port });
    // RFC 3263 §4.2: the first transport whose SRV records exist is the one used.
    if (out.length > 0) return out;
  }
  // No SRV: the host itself on the transport's default port.
  const t = transport ?? 'udp';
  return (await addresses(host)).map((address) => ({ transport: t, address, port: DEFAULT_PORT[t] }));
}

/** RFC 2782: lowest priority first; within a priority, a weighted random order. */
function orderSrv(records: { name: string; port: number; priority: number; weight: number }[]): typeof records {
  const byPriority = new Map<number, typeof records>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: typeof records = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const left = [...byPriority.get(priority)!];
    while (left.length > 0) {
      const total = left.reduce((n, r) => n + r.weight, 0);
      let pick = Math.random() * total;
      let i = left.findIndex((r) => (pick -= r.weight) < 0);
      if (i < 0) i = 0;
      out.push(left.splice(i, 1)[0]!);
    }
  }
  return out;
}

async function addresses(name: string): Promise<string[]> {
  if (resolver) return (await ask(() => resolver!.resolve4(name))) ?? [];
  try {
    return [(await lookup(name, { family: 4 })).address];
  } catch {
    return [];
  }
}

let system: Resolver | null = null;
function dns(): Resolver {
  return resolver ?? (system ??= new Resolver({ timeout: 1_000, tries: 1 }));
}

/** A lookup's records; none when the name or record does not exist; null when no DNS server answers. */
async function ask<T>(query: () => Promise<T[]>): Promise<T[] | null> {
  try {
    return await query();
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'ETIMEOUT' || code === 'ECONNREFUSED' || code === 'ESERVFAIL' ? null : [];
  }
}
