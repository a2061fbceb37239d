import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';

/** Where the phone said it receives (its SDP), used until its first packet shows where it sends from. */
export interface PeerAddress {
  address: string;
  rtpPort: number;
  rtcpPort?: number;
}

export interface SsrcLatchEvents {
  /** The phone's RTP SSRC: first seen, or changed (a new stream after hold, a re-INVITE...). */
  ssrc: [ssrc: number];
}

/** RTCP packet types (RFC 3550, 4585: 200-207) seen in the second byte when RTCP shares the RTP port. */
const isRtcp = (b: Buffer) => b.length >= 8 && b[1]! >= 200 && b[1]! <= 207;
const isRtp = (b: Buffer) => b.length >= 12 && b[0]! >> 6 === 2 && !isRtcp(b);

/**
 * A phone whose SDP gives no a=ssrc (most desk phones and room systems): mediasoup takes an RTP
 * packet only when a producer declared its SSRC, and has no payload-type fallback. So such a
 * call's media port is this small relay instead of the plain transport's own: it learns the SSRC
 * from the phone's first RTP packet (and again if it changes), and passes every datagram, RTP and
 * RTCP, SRTP or not, unchanged between the phone and the plain transport (whose comedia latches
 * onto the relay). It costs two socket operations per packet, only for those calls.
 */
export class SsrcLatch extends EventEmitter<SsrcLatchEvents> {
  /** The SSRC of the phone's stream, once a packet arrived. */
  ssrc: number | undefined;
  private closed = false;

  private constructor(
    private readonly rtp: Socket,
    private readonly rtcp: Socket | null,
    private transport: types.PlainTransport,
    /** Where the relay reaches the transport: its bind address (not an announced public one). */
    private readonly mediasoupIp: string,
    private peer: PeerAddress,
    private readonly log: Logger,
  ) {
    super();
    this.wire(rtp, 'rtp');
    if (rtcp) this.wire(rtcp, 'rtcp');
  }

  /**
   * Binds the relay's port(s) on the transport's address: RTCP on its own port when the transport has
   * one. `ports`: the ports of the relay this one replaces (the call moved to another conference; the
   * phone keeps sending where our first answer said).
   */
  static async open(
    transport: types.PlainTransport,
    bindIp: string,
    peer: PeerAddress,
    log: Logger,
    ports: { rtp?: number; rtcp?: number } = {},
  ): Promise<SsrcLatch> {
    const family = bindIp.includes(':') ? 'udp6' : 'udp4';
    const rtp = await bound(family, bindIp, ports.rtp);
    let rtcp: Socket | null = null;
    try {
      if (transport.rtcpTuple) rtcp = await bound(family, bindIp, ports.rtcp);
    } catch (err) {
      rtp.close();
      throw err;
    }
    const mediasoupIp = bindIp === '0.0.0.0' ? '127.0.0.1' : bindIp === '::' ? '::1' : bindIp;
    return new SsrcLatch(rtp, rtcp, transport, mediasoupIp, peer, log);
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  get rtcpPort(): number | undefined {
    return this.rtcp?.address().port;
  }

  /** The transport was replaced on the same port (best-effort SRTP answered with plain RTP). */
  setTransport(transport: types.PlainTransport): void {
    this.transport = transport;
  }

  /** A re-INVITE may move the phone's media. */
  setPeer(peer: PeerAddress): void {
    this.peer = peer;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rtp.close();
    this.rtcp?.close();
    this.removeAllListeners();
  }

  private wire(socket: Socket, which: 'rtp' | 'rtcp'): void {
    /** Where the phone sends from (symmetric RTP), learnt from its packets. */
    let phone: { address: string; port: number } | null = null;
    socket.on('error', (err) => this.log.debug({ err, which }, 'SIP media relay socket error'));
    socket.on('message', (msg: Buffer, from: RemoteInfo) => {
      if (this.closed) return;
      const ours = which === 'rtp' ? this.transport.tuple : this.transport.rtcpTuple;
      if (!ours) return;
      if (from.port === ours.localPort && sameHost(from.address, this.mediasoupIp)) {
        // From mediasoup: to the phone, where it sends from, else where its SDP said.
        const to = phone ?? { address: this.peer.address, port: which === 'rtp' ? this.peer.rtpPort : (this.peer.rtcpPort ?? this.peer.rtpPort + 1) };
        socket.send(msg, to.port, to.address);
        return;
      }
      phone = { address: from.address, port: from.port };
      if (which === 'rtp' && isRtp(msg)) {
        const ssrc = msg.readUInt32BE(8);
        if (ssrc !== this.ssrc) {
          this.ssrc = ssrc;
          this.emit('ssrc', ssrc);
        }
      }
      socket.send(msg, ours.localPort, this.mediasoupIp);
    });
  }
}

/** A socket bound to `port` (any when not given); a given port just closed by the relay before may take a moment to free. */
async function bound(family: 'udp4' | 'udp6', ip: string, port = 0): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    const socket = createSocket(family);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, ip, () => {
          socket.off('error', reject);
          resolve(socket);
        });
      });
    } catch (err) {
      socket.close();
      if (!port || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function sameHost(a: string, b: string): boolean {
  return a === b || a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}
