import { createHmac } from 'node:crypto';
import type { LocationConfig, StunServerConfig, TurnServerConfig } from '../../shared/node-protocol/messages.js';

/** request_token `stun` entry (client-api-v2 §2.1). */
export interface ClientStunServer {
  url: string;
}

/** request_token `turn` entry: the client passes it to RTCPeerConnection as-is. */
export interface ClientTurnServer {
  urls: string[];
  username: string;
  credential: string;
}

/** The guide's default STUN/TURN port when a server has none. */
export const DEFAULT_ICE_PORT = 3478;
/** How long coturn time-limited credentials stay valid: far longer than any meeting needs. */
export const COTURN_CREDENTIAL_TTL_S = 24 * 60 * 60;

/** IPv6 literals need brackets inside a URI. */
function host(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

export function stunUrl(s: StunServerConfig): string {
  return `stun:${host(s.address)}:${s.port ?? DEFAULT_ICE_PORT}`;
}

/** RFC 7065 TURN URI; TLS is `turns:` over TCP. */
export function turnUrl(t: TurnServerConfig): string {
  const scheme = t.transport === 'tls' ? 'turns' : 'turn';
  const transport = t.transport === 'udp' ? 'udp' : 'tcp';
  return `${scheme}:${host(t.address)}:${t.port ?? DEFAULT_ICE_PORT}?transport=${transport}`;
}

/** coturn's TURN REST API password: base64(HMAC-SHA1(shared secret, username)). */
export function coturnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * coturn time-limited credentials (`use-auth-secret`): the username is "<unix expiry>:<user id>",
 * here the participant's uuid so the TURN server's logs name the participant.
 */
export function coturnCredentials(secret: string, participantId: string, nowMs: number): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + COTURN_CREDENTIAL_TTL_S}:${participantId}`;
  return { username, credential: coturnCredential(secret, username) };
}

/** The location's client STUN and TURN servers as the client API gives them to one participant. */
export function clientIceServers(
  location: LocationConfig | null,
  participantId: string,
  nowMs = Date.now(),
): { stun: ClientStunServer[]; turn: ClientTurnServer[]; useRelayCandidatesOnly: boolean } {
  if (!location) return { stun: [], turn: [], useRelayCandidatesOnly: false };
  return {
    stun: location.clientStunServers.map((s) => ({ url: stunUrl(s) })),
    turn: location.clientTurnServers.map((t) => ({
      urls: [turnUrl(t)],
      ...(t.serverType === 'coturn_shared' ? coturnCredentials(t.secretKey, participantId, nowMs) : { username: t.username, credential: t.password }),
    })),
    useRelayCandidatesOnly: location.useRelayCandidatesOnly,
  };
}
