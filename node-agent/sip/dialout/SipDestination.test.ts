import { describe, expect, it } from 'vitest';
import { resolveSipDestination, SipDestinationError } from './SipDestination.js';

describe('resolveSipDestination', () => {
  it('reads user@host[:port] and SIP URIs with a transport', async () => {
    expect(await resolveSipDestination('bob@127.0.0.1:5070')).toEqual({
      alias: 'bob@127.0.0.1:5070',
      uri: 'sip:bob@127.0.0.1:5070',
      peer: { transport: 'udp', address: '127.0.0.1', port: 5070 },
      peers: [{ transport: 'udp', address: '127.0.0.1', port: 5070 }],
    });
    expect(await resolveSipDestination('sip:carol@10.0.0.2;transport=tcp')).toMatchObject({
      uri: 'sip:carol@10.0.0.2;transport=tcp',
      peer: { transport: 'tcp', address: '10.0.0.2', port: 5060 },
    });
    expect(await resolveSipDestination('sips:dave@10.0.0.3')).toMatchObject({ peer: { transport: 'tls', address: '10.0.0.3', port: 5061 } });
    expect(await resolveSipDestination('erin@[::1]:5080')).toMatchObject({ peer: { address: '::1', port: 5080 } });
  });

  it('resolves a host name, and takes a bare alias as a registration to look up (no host)', async () => {
    expect(await resolveSipDestination('frank@localhost')).toMatchObject({ peer: { address: '127.0.0.1', port: 5060 } });
    expect(await resolveSipDestination('meeting.room')).toEqual({ alias: 'meeting.room', uri: 'sip:meeting.room' });
  });

  it('refuses what is not a SIP address, a bad port and a name that does not resolve', async () => {
    for (const bad of ['', 'a b@host', 'x@host:99999', 'x@no-such-host.invalid'])
      await expect(resolveSipDestination(bad), bad).rejects.toBeInstanceOf(SipDestinationError);
  });
});
