import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { OutgoingCallOptions } from '../SipServer.js';

/** Where a dialled SIP alias goes: its Request-URI and the address the INVITE is sent to. */
export interface SipDestination {
  /** The alias without `sip:`, as the registrar keys registrations. */
  alias: string;
  uri: string;
  /** Unset for an alias without a host: only a registration can take it. */
  peer?: OutgoingCallOptions['peer'];
}

/** A destination the node cannot call (the reason goes in the participant's disconnect reason). */
export class SipDestinationError extends Error {
  override readonly name = 'SipDestinationError';
}

const URI = /^(?:sips?:)?(?:([^@;?\s]+)@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^?\s]*)?)$/;

/**
 * Reads `alias`, `user@host[:port]` or a SIP URI with `;transport=`. The host is an address or a
 * name (resolved by A/AAAA; SRV and NAPTR are not looked up, so a port other than 5060 is written).
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
  const transportParam = /;transport=(udp|tcp|tls)/i.exec(params ?? '')?.[1]?.toLowerCase() as 'udp' | 'tcp' | 'tls' | undefined;
  const transport = transportParam ?? (/^sips:/i.test(text) ? 'tls' : 'udp');
  const port = portText ? Number(portText) : transport === 'tls' ? 5061 : 5060;
  if (port < 1 || port > 65535) throw new SipDestinationError(`Bad port in ${destination}`);
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host, { family: 4 })).address;
    } catch {
      throw new SipDestinationError(`Cannot resolve ${host}`);
    }
  }
  return {
    alias,
    uri: `sip:${user}@${rawHost}${portText ? `:${portText}` : ''}${transportParam ? `;transport=${transportParam}` : ''}`,
    peer: { transport, address, port },
  };
}
