import { describe, expect, it } from 'vitest';
import { nodeToServerSchema, serverToNodeSchema } from './messages.js';

const id = '6f1c2a9e-3b4d-4c5e-8f70-112233445566';
const opus = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48_000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] };

describe('node protocol: backplanes', () => {
  it('carries a backplane offer, both ends and the streams a node pipes', () => {
    expect(
      serverToNodeSchema.parse({
        type: 'backplane_open',
        backplaneId: id,
        conference: 'Room',
        peer: { nodeId: 2, name: 'n2', location: 'Oslo' },
        backplaneType: 'geographic',
      }),
    ).toMatchObject({ backplaneType: 'geographic' });
    const transport = { ip: '10.0.0.12', port: 40_123, srtp: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' } };
    expect(nodeToServerSchema.parse({ type: 'backplane_transport', backplaneId: id, transport })).toEqual({
      type: 'backplane_transport',
      backplaneId: id,
      transport,
    });
    const streams = {
      type: 'backplane_streams',
      backplaneId: id,
      participants: [{ id: 'p1', displayName: 'Alice', role: 'chair', protocol: 'webrtc' }],
      streams: [{ producerId: 'x1', participantId: 'p1', kind: 'audio', source: 'mic', rtpParameters: { codecs: [opus], encodings: [{ ssrc: 1234 }] } }],
    };
    expect(serverToNodeSchema.parse(streams)).toEqual(streams);
  });

  it('refuses a backplane message that is malformed: unknown type of backplane, bad port, no codec, not a uuid', () => {
    expect(
      serverToNodeSchema.safeParse({
        type: 'backplane_open',
        backplaneId: id,
        conference: 'Room',
        peer: { nodeId: 2, name: 'n2', location: '' },
        backplaneType: 'external',
      }).success,
    ).toBe(false);
    expect(nodeToServerSchema.safeParse({ type: 'backplane_transport', backplaneId: id, transport: { ip: '10.0.0.1', port: 70_000 } }).success).toBe(false);
    expect(
      nodeToServerSchema.safeParse({
        type: 'backplane_streams',
        backplaneId: id,
        participants: [],
        streams: [{ producerId: 'x', participantId: 'p', kind: 'audio', source: 'mic', rtpParameters: { codecs: [] } }],
      }).success,
    ).toBe(false);
    expect(serverToNodeSchema.safeParse({ type: 'backplane_close', backplaneId: 'nope' }).success).toBe(false);
  });
});
