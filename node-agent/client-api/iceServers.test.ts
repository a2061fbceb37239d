import { describe, expect, it } from 'vitest';
import { locationConfigSchema } from '../../shared/node-protocol/messages.js';
import { clientIceServers, coturnCredential, turnUrl } from './iceServers.js';

describe('client ICE servers (request_token stun/turn)', () => {
  it('computes the coturn password as base64 HMAC-SHA1 (RFC 2202 test case 2)', () => {
    // RFC 2202: HMAC-SHA1(key "Jefe", "what do ya want for nothing?") = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
    expect(coturnCredential('Jefe', 'what do ya want for nothing?')).toBe(Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64'));
    expect(coturnCredential('Jefe', 'what do ya want for nothing?')).toBe('7/zfauXrL6LSdBbV8YTfnCWafHk=');
  });

  it('builds STUN and TURN entries from the location, with default ports, turns: for TLS and IPv6 brackets', () => {
    const location = locationConfigSchema.parse({
      name: 'London',
      clientStunServers: [
        { address: 'stun.l.google.com', port: 19302 },
        { address: '2001:db8::1', port: null },
      ],
      clientTurnServers: [
        { address: 'turn.example.com', port: null, transport: 'udp', serverType: 'namepsw', username: 'u', password: 'p' },
        { address: 'turn.example.com', port: 443, transport: 'tls', serverType: 'namepsw', username: 'u', password: 'p' },
        { address: '10.0.0.1', port: 3479, transport: 'tcp', serverType: 'coturn_shared', secretKey: 's3cret' },
      ],
      useRelayCandidatesOnly: true,
    });
    const now = Date.UTC(2024, 0, 1);
    const ice = clientIceServers(location, 'abc-uuid', now);
    expect(ice.stun).toEqual([{ url: 'stun:stun.l.google.com:19302' }, { url: 'stun:[2001:db8::1]:3478' }]);
    expect(ice.turn[0]).toEqual({ urls: ['turn:turn.example.com:3478?transport=udp'], username: 'u', credential: 'p' });
    expect(ice.turn[1]!.urls).toEqual(['turns:turn.example.com:443?transport=tcp']);
    const expiry = now / 1000 + 24 * 3600;
    expect(ice.turn[2]).toEqual({
      urls: ['turn:10.0.0.1:3479?transport=tcp'],
      username: `${expiry}:abc-uuid`,
      credential: coturnCredential('s3cret', `${expiry}:abc-uuid`),
    });
    expect(ice.useRelayCandidatesOnly).toBe(true);
  });

  it('gives nothing without a location', () => {
    expect(clientIceServers(null, 'x')).toEqual({ stun: [], turn: [], useRelayCandidatesOnly: false });
    expect(turnUrl({ address: 'a', port: null, transport: 'tcp', serverType: 'namepsw', username: '', password: '', secretKey: '' })).toBe(
      'turn:a:3478?transport=tcp',
    );
  });
});
