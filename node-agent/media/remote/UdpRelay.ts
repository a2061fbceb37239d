import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';

export interface UdpRelayOptions {
  /** The proxying node's address: where the endpoint sends. */
  address: string;
  /** Ports to listen on (the node's media port range). */
  portRange: readonly [number, number];
  /** The transcoding node's transport for this call (its ICE host candidate). */
  target: { address: string; port: number };
  log: Logger;
  /** How the endpoint is learnt: its ICE checks (WebRTC), or its first packet (SIP's symmetric RTP, as comedia). */
  latch?: RelayLatch;
}

export type RelayLatch = 'ice' | 'first';

/** STUN messages start with two zero bits (RFC 5764 §5.1.2 demultiplexing: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP). */
const isStun = (b: Buffer) => b.length >= 20 && b[0]! < 4;

/**
 * A proxying edge node's lineside media for one call (admin guide, rule 8 of "Handling of media and
 * signaling"): the endpoint is given this node's address and port, and every packet is passed
 * between it and the transcoding node's transport. One socket faces both: what comes from the
 * transcoding node goes to the endpoint, what comes from the endpoint goes on. The endpoint's
 * address is learnt from its ICE connectivity checks (STUN), so a stray sender is never forwarded
 * and a NAT rebinding moves it; media stays end-to-end encrypted (DTLS-SRTP between the endpoint
 * and the transcoding node), the edge node only forwards.
 *
 * Written here rather than with a TURN server: the edge must not ask the endpoint for anything a
 * Pexip client does not do, and a call needs exactly one fixed forwarding path.
 */
export class UdpRelay {
  private endpoint: { address: string; port: number } | null = null;
  private closed = false;
  /** Packets passed each way (status and tests). */
  readonly forwarded = { toMedia: 0, toEndpoint: 0, dropped: 0 };

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    private readonly opts: UdpRelayOptions,
  ) {
    socket.on('message', (msg, from) => this.packet(msg, from));
    socket.on('error', (err) => opts.log.warn({ err }, 'edge relay socket error'));
  }

  /** Listens on a free port of the range. */
  static async open(opts: UdpRelayOptions): Promise<UdpRelay> {
    const [lo, hi] = opts.portRange;
    const span = hi - lo + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < Math.min(span, 200); i++) {
      const port = lo + ((start + i) % span);
      const socket = createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, opts.address, () => resolve(true));
      });
      if (bound) return new UdpRelay(socket, port, opts);
      socket.close();
    }
    throw new Error('no free media port for the edge relay');
  }

  get target(): { address: string; port: number } {
    return this.opts.target;
  }

  private packet(msg: Buffer, from: { address: string; port: number }): void {
    if (this.closed) return;
    const t = this.opts.target;
    if (from.address === t.address && from.port === t.port) {
      if (!this.endpoint) return void this.forwarded.dropped++;
      this.forwarded.toEndpoint++;
      this.socket.send(msg, this.endpoint.port, this.endpoint.address);
      return;
    }
    // The endpoint is whoever makes ICE checks (the transcoding node answers only valid ones).
    if (isStun(msg) || (this.opts.latch === 'first' && !this.endpoint)) this.endpoint = { address: from.address, port: from.port };
    else if (!this.endpoint || this.endpoint.address !== from.address || this.endpoint.port !== from.port) return void this.forwarded.dropped++;
    this.forwarded.toMedia++;
    this.socket.send(msg, t.port, t.address);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}

/**
 * The answer the endpoint gets from an edge node: the transcoding node's ICE candidates replaced by
 * one on the relay (its address and port), and the first UDP host candidate it replaced returned,
 * which the relay forwards to. Null when the answer has no UDP candidate.
 */
export function relayAnswer(sdp: string, relay: { address: string; port: number } | null): { sdp: string; target: { address: string; port: number } } | null {
  const lines = sdp.split(/\r?\n/);
  let target: { address: string; port: number } | null = null;
  for (const l of lines) {
    const m = /^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host/i.exec(l);
    if (m) {
      target = { address: m[1]!, port: Number(m[2]) };
      break;
    }
  }
  if (!target) return null;
  if (!relay) return { sdp, target };
  const out: string[] = [];
  // One candidate per m-section that had the transcoding node's: the relay's, UDP.
  let given = false;
  for (const l of lines) {
    if (l.startsWith('m=')) given = false;
    if (/^a=candidate:/i.test(l)) {
      if (!given && / udp /i.test(l)) out.push(`a=candidate:edgerelay 1 udp 2130706431 ${relay.address} ${relay.port} typ host`);
      given ||= / udp /i.test(l);
      continue;
    }
    if (l.startsWith('c=IN IP4 ')) out.push(`c=IN IP4 ${relay.address}`);
    else if (/^m=\S+ \d+ /.test(l) && !/^m=\S+ 0 /.test(l)) out.push(l.replace(/^(m=\S+ )\d+/, `$1${relay.port}`));
    else out.push(l);
  }
  return { sdp: out.join('\r\n'), target };
}

/**
 * A SIP answer as a proxying node gives it: every address (connection, origin) its own, and each media port
 * (RTP, and RTCP when not muxed) one of its relays to that port of the media node, with an a=rtcp
 * line where RTCP has a port of its own (the RTP relay's port + 1 is not the RTCP relay's).
 */
export async function relaySipAnswer(
  sdp: string,
  relayTo: (target: { address: string; port: number }) => Promise<{ address: string; port: number }>,
): Promise<string> {
  const lines = sdp.split(/\r?\n/);
  // The SDP's final CRLF: kept for the end, so an a=rtcp line added to the last section goes before it.
  const finalBreak = lines.at(-1) === '';
  if (finalBreak) lines.pop();
  const firstMedia = lines.findIndex((l) => l.startsWith('m='));
  const connection = (ls: string[]) =>
    ls
      .find((l) => l.startsWith('c=IN IP4 '))
      ?.slice('c=IN IP4 '.length)
      .trim()
      .split('/')[0];
  const sessionAddress = connection(firstMedia < 0 ? lines : lines.slice(0, firstMedia));
  const out: string[] = [];
  let relayAddress: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = /^m=(\S+) (\d+) (.*)$/.exec(l);
    if (!m || m[2] === '0') {
      out.push(l);
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith('m=')) end++;
    const section = lines.slice(i + 1, end);
    const target = connection(section) ?? sessionAddress;
    if (!target) throw new Error('SIP answer without a connection address');
    const rtp = await relayTo({ address: target, port: Number(m[2]) });
    relayAddress = rtp.address;
    out.push(`m=${m[1]} ${rtp.port} ${m[3]}`);
    const muxed = section.some((x) => x.startsWith('a=rtcp-mux'));
    const rtcpLine = section.find((x) => x.startsWith('a=rtcp:'));
    out.push(...section.filter((x) => !x.startsWith('a=rtcp:')));
    if (!muxed) {
      const rtcpPort = rtcpLine ? Number(/^a=rtcp:(\d+)/.exec(rtcpLine)?.[1]) : Number(m[2]) + 1;
      out.push(`a=rtcp:${(await relayTo({ address: target, port: rtcpPort })).port}`);
    }
    i = end - 1;
  }
  if (relayAddress === null) return sdp;
  const at = relayAddress;
  // The origin's address too: the phone sees only the proxying node.
  return (
    out.map((l) => (l.startsWith('c=IN IP4 ') ? `c=IN IP4 ${at}` : l.startsWith('o=') ? l.replace(/ IN IP4 \S+$/, ` IN IP4 ${at}`) : l)).join('\r\n') +
    (finalBreak ? '\r\n' : '')
  );
}
