import { write as writeSdp } from 'sdp-transform';
import type { SrtpSuite } from '../SipSdp.js';

export interface OutgoingOfferCodec {
  payloadType: number;
  /** The rtpmap encoding name (opus, PCMU, PCMA). */
  name: string;
  clockRate: number;
  channels?: number;
}

export interface OutgoingOffer {
  address: string;
  sessionId: string;
  version: number;
  port: number;
  /** In our order of preference; telephone-event is added. */
  codecs: OutgoingOfferCodec[];
  /** SDES key: `required` offers RTP/SAVP, else RTP/AVP with a=crypto (best effort, as phones write it). */
  srtp?: { suite: SrtpSuite; keyBase64: string; required: boolean };
}

/** RFC 4733 events: the payload type we offer them on. */
export const TELEPHONE_EVENT_PT = 101;

/** The SDP offer of a call we place: one audio m-line, RTCP multiplexed, sendrecv. */
export function buildOutgoingOffer(o: OutgoingOffer): string {
  const rtp = [
    ...o.codecs.map((c) => ({ payload: c.payloadType, codec: c.name, rate: c.clockRate, ...(c.channels ? { encoding: c.channels } : {}) })),
    { payload: TELEPHONE_EVENT_PT, codec: 'telephone-event', rate: 8000 },
  ];
  return writeSdp({
    version: 0,
    origin: { username: 'openmeet', sessionId: o.sessionId, sessionVersion: o.version, netType: 'IN', ipVer: 4, address: o.address },
    name: '-',
    timing: { start: 0, stop: 0 },
    connection: { version: 4, ip: o.address },
    media: [
      {
        type: 'audio',
        port: o.port,
        protocol: o.srtp?.required ? 'RTP/SAVP' : 'RTP/AVP',
        payloads: rtp.map((r) => r.payload).join(' '),
        rtp,
        fmtp: [{ payload: TELEPHONE_EVENT_PT, config: '0-15' }],
        rtcpMux: 'rtcp-mux',
        direction: 'sendrecv',
        ...(o.srtp ? { crypto: [{ id: 1, suite: o.srtp.suite, config: `inline:${o.srtp.keyBase64}` }] } : {}),
      },
    ],
  });
}
