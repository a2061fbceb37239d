import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { connect as connectTcp, createServer, isIP, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import type { Registrar } from './registrar/Registrar.js';
import {
  frameLength,
  headerParam,
  makeResponse,
  MAX_MESSAGE_BYTES,
  parseSipMessage,
  SipParseError,
  serializeSipMessage,
  TOO_LARGE,
  uriUser,
  type SipRequest,
  type SipResponse,
} from './SipMessage.js';

/** RFC 3261 timer values (§17, Table 4). */
export const T1 = 500;
export const T2 = 4000;
const TIMER_H = 64 * T1;
/** Timer J: how long a non-INVITE server transaction keeps its answer for retransmissions. */
const TIMER_J = 64 * T1;
/** Timer B: how long an INVITE we placed waits for a final answer. */
const TIMER_B = 64 * T1;

/** The methods we answer (RFC 3261 §20.5): REGISTER for the registrar, INFO and UPDATE in a call. */
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE';

/** The answer to an INVITE (or re-INVITE); a 2xx with `dialog` starts a call the server keeps. */
export interface SipInviteAnswer {
  status: number;
  reason: string;
  body?: Buffer;
  contentType?: string;
  extra?: [string, string][];
  /** For a 2xx: what the call does on the peer's BYE and re-INVITE. */
  dialog?: SipDialogHandlers;
}

export interface SipDialogHandlers {
  /** The peer hung up (BYE) or the dialog failed (no ACK, session timer ran out). */
  ended(reason: string): void;
  /** A re-INVITE or UPDATE with a new offer (hold, unhold, changed media). */
  reinvite(sdp: string): Promise<SipInviteAnswer>;
  /** An INFO in the call (e.g. `application/dtmf-relay`); answered 200 whether or not it is used. */
  info?(contentType: string, body: Buffer): void;
  /**
   * The ACK of a 2xx that carried our offer (a late offer, or a re-INVITE without one), with its
   * body: the peer's answer. Not called for the ACK of a 2xx that carried our answer.
   */
  acked?(sdp: string): void;
  /** A re-INVITE without an offer (RFC 3261 §14.2): a 2xx with our offer; the answer comes in the ACK (`acked`). */
  reoffer?(): Promise<SipInviteAnswer>;
}

/** A call in progress (RFC 3261 §12): identified by its Call-ID; ours is the To tag. */
interface Dialog {
  callId: string;
  peer: Peer;
  /** The INVITE came from another address than its Via names (NAT): our requests follow the source, not the Contact. */
  natted: boolean;
  /** The INVITE's From (theirs) and To with our tag: swapped for a BYE we send. */
  from: string;
  to: string;
  remoteTarget: string;
  localCseq: number;
  handlers: SipDialogHandlers;
  /** The 2xx retransmitted until its ACK (RFC 3261 §13.3.1.4). */
  unacked?: { response: SipResponse; timers: NodeJS.Timeout[]; carriesOffer: boolean };
  sessionTimer?: ClockTimer;
  sessionExpires?: number;
}

export interface SipServerOptions {
  /** Address to bind (default all). */
  host?: string;
  /** UDP and TCP port; 5060 by default. 0 picks a free one (tests). */
  port?: number;
  /** The shared alias lookup (node-agent/conference/ServiceDirectory). */
  directory: { lookup(alias: string): ServiceConfig | undefined };
  /** Break-in resistance: counts calls to aliases that match nothing. */
  breakIn?: { rejectQuarantined(a: BreakInAttempt): boolean; unknownAlias(a: BreakInAttempt): void };
  /**
   * An INVITE to a service: resolves with the final answer. Until SIP media exists the default
   * refuses it with 480 (it says so in a Warning), rather than pretending to join.
   */
  onServiceInvite?: (call: IncomingSipCall) => Promise<SipInviteAnswer>;
  /** An INVITE to an alias no service has: a gateway call when a Call Routing Rule matches (undefined: 404). */
  onUnmatchedInvite?: (call: Omit<IncomingSipCall, 'service'>) => Promise<SipInviteAnswer | undefined>;
  log: Logger;
  /** The registrar for the device allow-list; without it REGISTER gets 405. */
  registrar?: Registrar;
  /** INVITE transactions held at once before new ones get 503 (a flood); default 2000. */
  maxInviteTransactions?: number;
  /** The same, from one address, so a flood from one source does not refuse everybody else's calls; default 100. */
  maxInviteTransactionsPerSource?: number;
  /** SIP over TLS on this port (5061 from main.ts) while a certificate is given; unset = no TLS. 0 picks a free one. */
  tlsPort?: number;
  /** How long a TCP/TLS connection may hold part of a message before it is closed (slow senders); default 64·T1 = 32 s. */
  partialMessageTimeoutMs?: number;
  /** TCP and TLS connections held at once (each listener); default 10,000. */
  maxConnections?: number;
  /** The session timers' clock (RFC 4028); default the system clock. */
  clock?: Clock;
}

/** Which transports listen (Platform > Global settings: Enable SIP, Enable SIP UDP; the node's TLS certificate). */
export interface SipTransports {
  udp: boolean;
  tcp: boolean;
  /** TLS with the node's certificate and key (PEM); null = no TLS listener. */
  tls: { certificate: string; privateKey: string } | null;
}

/** An INVITE we place (a call to a registered device, a dial-out). */
export interface OutgoingCallOptions {
  /** The Request-URI: the device's Contact. */
  target: string;
  /** Where it is sent: the Contact's host and port, or where a NATed device's packets came from. */
  peer: { transport: 'udp' | 'tcp' | 'tls'; address: string; port: number };
  /** Our From (a tag is added) and the To, as name-addr. */
  from: string;
  to: string;
  /** The SDP offer. */
  body?: Buffer;
  contentType?: string;
  /** What the call does once answered (the peer's BYE, re-INVITE, INFO). */
  dialog: SipDialogHandlers;
  /** A provisional answer (180 Ringing, 183). */
  onProvisional?(status: number): void;
}

/** The final answer to an INVITE we placed; a 2xx leaves a call the server keeps (hang up with `hangUp`). */
export interface OutgoingCallAnswer {
  status: number;
  reason: string;
  body: Buffer;
  headers: Map<string, string[]>;
}

export interface OutgoingCall {
  callId: string;
  answer: Promise<OutgoingCallAnswer>;
  /** CANCEL while unanswered (sent once a provisional answer came, RFC 3261 §9.1); a 2xx that crosses it is ACKed and hung up. */
  cancel(): void;
}

/** An INVITE client transaction (RFC 3261 §17.1.1), keyed by its branch. */
interface ClientInvite {
  opts: OutgoingCallOptions;
  peer: Peer;
  callId: string;
  branch: string;
  via: string;
  from: string;
  request: Buffer;
  timers: NodeJS.Timeout[];
  provisional: boolean;
  cancelWanted: boolean;
  cancelSent: boolean;
  done: boolean;
  resolve(a: OutgoingCallAnswer): void;
}

export interface BreakInAttempt {
  alias: string;
  participant: string;
  protocol: 'sip';
  remoteAddress: string;
}

export interface IncomingSipCall {
  service: ServiceConfig;
  alias: string;
  /** The PIN given as `alias**PIN@domain`, when given. */
  pin?: string;
  request: SipRequest;
  remoteAddress: string;
}

interface Peer {
  transport: 'udp' | 'tcp' | 'tls';
  address: string;
  port: number;
  tcp?: TcpSocket;
}

/** An INVITE server transaction (RFC 3261 §17.2.1), keyed by the top Via's branch. */
interface InviteTransaction {
  request: SipRequest;
  peer: Peer;
  toTag: string;
  final?: SipResponse;
  timers: NodeJS.Timeout[];
}

/** The SIP signalling of one node: UDP and TCP transports, server transactions, the calls' first answers. */
export class SipServer {
  private udp?: UdpSocket;
  private tcp?: TcpServer;
  private tls?: TlsServer;
  private tlsFingerprint?: string;
  private boundPort?: number;
  private tlsBoundPort?: number;
  private applying: Promise<void> = Promise.resolve();
  private readonly tcpSockets = new Set<TcpSocket>();
  /** Open connections by `transport:address:port` of the far end (flows, RFC 5626): a device registered over one is called over it. */
  private readonly flows = new Map<string, TcpSocket>();
  private readonly invites = new Map<string, InviteTransaction>();
  /** INVITE transactions held per source address. */
  private readonly invitesBySource = new Map<string, number>();
  /** Non-INVITE answers kept for retransmitted requests (Timer J). */
  private readonly answered = new Map<string, { response: Buffer; timer: NodeJS.Timeout }>();
  private readonly log: Logger;
  private readonly dialogs = new Map<string, Dialog>();
  /** Our INFOs waiting for an answer, by branch (retransmitted over UDP). */
  private readonly infos = new Map<string, NodeJS.Timeout[]>();
  /** Our BYEs waiting for an answer (retransmitted over UDP). */
  private readonly byes = new Map<string, NodeJS.Timeout[]>();
  /** INVITEs we placed, by branch; kept until Timer B or a final answer. */
  private readonly clientInvites = new Map<string, ClientInvite>();
  /** The ACK of each 2xx we accepted, by Call-ID: sent again when the 2xx is retransmitted. */
  private readonly acks = new Map<string, { peer: Peer; ack: Buffer; timer: NodeJS.Timeout }>();

  constructor(private readonly opts: SipServerOptions) {
    this.log = opts.log.child({ part: 'sip' });
  }

  /** The UDP and TCP port, once started (kept while either is switched off). */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** The TLS port while TLS listens. */
  get tlsPort(): number | undefined {
    return (this.tls?.address() as { port: number } | null)?.port;
  }

  /** The registrar answering REGISTER here, if any. */
  get registrar(): Registrar | undefined {
    return this.opts.registrar;
  }

  /** Which transports listen now. */
  get listening(): { udp: boolean; tcp: boolean; tls: boolean } {
    return { udp: !!this.udp, tcp: !!this.tcp, tls: !!this.tls };
  }

  /** Binds UDP and TCP on the same port; resolves with it. */
  async start(): Promise<number> {
    await this.openTcp();
    await this.openUdp();
    this.log.info({ port: this.boundPort }, 'SIP listening on UDP and TCP');
    return this.boundPort!;
  }

  /**
   * Follows the configuration: each transport opened or closed as it is switched on or off, and the
   * TLS listener's certificate replaced for new connections when it changes. Calls in progress stay.
   */
  applyTransports(transports: SipTransports): Promise<void> {
    this.applying = this.applying.then(() => this.applyNow(transports)).catch((err: unknown) => this.log.error({ err }, 'SIP transports could not be changed'));
    return this.applying;
  }

  private async applyNow(t: SipTransports): Promise<void> {
    if (this.boundPort === undefined) return; // not started (or stopped)
    const before = JSON.stringify({ ...this.listening, tls: this.tlsFingerprint });
    if (t.tcp && !this.tcp) await this.openTcp();
    if (!t.tcp && this.tcp) await closeServer(this.tcp).then(() => (this.tcp = undefined));
    if (t.udp && !this.udp) await this.openUdp();
    if (!t.udp && this.udp) {
      const udp = this.udp;
      this.udp = undefined;
      await new Promise<void>((r) => udp.close(() => r()));
    }
    await this.applyTls(this.opts.tlsPort === undefined ? null : t.tls);
    // Every configuration push comes here: only a change is logged.
    if (JSON.stringify({ ...this.listening, tls: this.tlsFingerprint }) !== before)
      this.log.info({ ...this.listening, port: this.boundPort, tlsPort: this.tlsPort }, 'SIP transports');
  }

  private async openTcp(): Promise<void> {
    const tcp = createServer((socket) => this.acceptStream(socket, 'tcp'));
    tcp.maxConnections = this.opts.maxConnections ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.boundPort ?? this.opts.port ?? 5060, this.opts.host ?? '0.0.0.0', () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
    this.boundPort = (tcp.address() as { port: number }).port;
  }

  private async openUdp(): Promise<void> {
    const udp = createSocket('udp4');
    udp.on('message', (buf, rinfo) => this.receive(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (err) => {
        udp.close();
        reject(err);
      });
      udp.bind(this.boundPort ?? this.opts.port ?? 5060, this.opts.host ?? '0.0.0.0', () => resolve());
    });
    udp.removeAllListeners('error');
    udp.on('error', (err) => this.log.warn({ err }, 'SIP UDP socket error'));
    this.udp = udp;
    this.boundPort ??= udp.address().port;
  }

  /** TLS on its port with the node's certificate (Platform > TLS certificates); a new one applies to new connections. */
  private async applyTls(cert: SipTransports['tls']): Promise<void> {
    if (!cert) {
      if (this.tls) await closeServer(this.tls);
      this.tls = undefined;
      this.tlsFingerprint = undefined;
      return;
    }
    const fingerprint = createHash('sha256').update(cert.certificate).update(cert.privateKey).digest('hex');
    if (this.tls && fingerprint === this.tlsFingerprint) return;
    const context = { cert: cert.certificate, key: cert.privateKey };
    if (this.tls) this.tls.setSecureContext(context);
    else {
      const tls = createTlsServer(context, (socket) => this.acceptStream(socket, 'tls'));
      tls.on('tlsClientError', () => undefined); // scanners and plain-TCP clients must not fill the log
      tls.maxConnections = this.opts.maxConnections ?? 10_000;
      await new Promise<void>((resolve, reject) => {
        tls.once('error', reject);
        tls.listen(this.tlsBoundPort ?? this.opts.tlsPort, this.opts.host ?? '0.0.0.0', () => {
          tls.off('error', reject);
          resolve();
        });
      });
      this.tls = tls;
      this.tlsBoundPort = (tls.address() as { port: number }).port;
    }
    this.tlsFingerprint = fingerprint;
  }

  /** Calls in progress. */
  get calls(): number {
    return this.dialogs.size;
  }

  /**
   * An INFO in a call (RFC 6086), e.g. a key as `application/dtmf-relay`; retransmitted over UDP
   * until answered. False when the call is gone.
   */
  sendInfo(callId: string, contentType: string, body: Buffer): boolean {
    const d = this.dialogs.get(callId);
    if (!d) return false;
    const branch = `z9hG4bK${randomTag()}`;
    const headers = new Map<string, string[]>([
      ['via', [`SIP/2.0/${d.peer.transport.toUpperCase()} ${this.localAddress(d.peer)};branch=${branch};rport`]],
      ['max-forwards', ['70']],
      ['from', [d.to]],
      ['to', [d.from]],
      ['call-id', [d.callId]],
      ['cseq', [`${++d.localCseq} INFO`]],
      ['content-type', [contentType]],
    ]);
    const info = serializeSipMessage({ kind: 'request', method: 'INFO', uri: d.remoteTarget, headers, body });
    const target = this.targetPeer(d);
    const timers: NodeJS.Timeout[] = [];
    this.infos.set(branch, timers);
    this.send(target, info);
    if (target.transport === 'udp') {
      let interval = T1;
      const again = () => {
        if (!this.infos.has(branch)) return;
        this.send(target, info);
        interval = Math.min(interval * 2, T2);
        timers.push(setTimeout(again, interval));
      };
      timers.push(setTimeout(again, interval));
    }
    timers.push(setTimeout(() => this.infos.delete(branch), 64 * T1));
    return true;
  }

  /** Ends a call from our side: BYE to the peer (the platform disconnected the participant). */
  hangUp(callId: string): void {
    const d = this.dialogs.get(callId);
    if (!d) return;
    this.dropDialog(d);
    const branch = `z9hG4bK${randomTag()}`;
    const headers = new Map<string, string[]>([
      ['via', [`SIP/2.0/${d.peer.transport.toUpperCase()} ${this.localAddress(d.peer)};branch=${branch};rport`]],
      ['max-forwards', ['70']],
      ['from', [d.to]],
      ['to', [d.from]],
      ['call-id', [d.callId]],
      ['cseq', [`${++d.localCseq} BYE`]],
    ]);
    const bye = serializeSipMessage({ kind: 'request', method: 'BYE', uri: d.remoteTarget, headers, body: Buffer.alloc(0) });
    const timers: NodeJS.Timeout[] = [];
    this.byes.set(d.callId, timers);
    const target = this.targetPeer(d);
    this.send(target, bye);
    if (target.transport === 'udp') {
      let interval = T1;
      const again = () => {
        if (!this.byes.has(d.callId)) return;
        this.send(target, bye);
        interval = Math.min(interval * 2, T2);
        timers.push(setTimeout(again, interval));
      };
      timers.push(setTimeout(again, interval));
    }
    timers.push(setTimeout(() => this.byes.delete(d.callId), 64 * T1));
  }

  private localAddress(peer: Peer): string {
    const a = peer.transport === 'udp' ? this.opts.host : peer.tcp?.localAddress;
    const host = !a || a === '0.0.0.0' ? '127.0.0.1' : a.replace(/^::ffff:/, '');
    return `${host}:${peer.transport === 'tls' ? (this.tlsPort ?? 5061) : (this.port ?? 5060)}`;
  }

  private dropDialog(d: Dialog): void {
    this.dialogs.delete(d.callId);
    d.unacked?.timers.forEach(clearTimeout);
    (this.opts.clock ?? systemClock).clearTimeout(d.sessionTimer);
  }

  async stop(): Promise<void> {
    for (const d of [...this.dialogs.values()]) {
      this.dropDialog(d);
      d.handlers.ended('Conferencing node shutting down');
    }
    for (const t of this.byes.values()) t.forEach(clearTimeout);
    this.byes.clear();
    for (const t of this.infos.values()) t.forEach(clearTimeout);
    this.infos.clear();
    for (const tx of [...this.clientInvites.values()])
      this.clientFinal(tx, { status: 503, reason: 'Service Unavailable', body: Buffer.alloc(0), headers: new Map() });
    for (const a of this.acks.values()) clearTimeout(a.timer);
    this.acks.clear();
    for (const t of this.invites.values()) t.timers.forEach(clearTimeout);
    this.invites.clear();
    this.invitesBySource.clear();
    for (const a of this.answered.values()) clearTimeout(a.timer);
    this.answered.clear();
    for (const s of this.tcpSockets) s.destroy();
    this.flows.clear();
    this.boundPort = undefined;
    await this.applying;
    await Promise.all([
      this.tcp ? closeServer(this.tcp) : undefined,
      this.tls ? closeServer(this.tls) : undefined,
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
    ]);
    this.tcp = this.tls = this.udp = undefined;
  }

  /** Reads SIP from a TCP or TLS connection, ours or the peer's, framed by Content-Length. */
  private acceptStream(socket: TcpSocket, transport: 'tcp' | 'tls', peer?: Peer): Peer {
    this.tcpSockets.add(socket);
    let buf: Buffer = Buffer.alloc(0);
    peer ??= { transport, address: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''), port: socket.remotePort ?? 0, tcp: socket };
    const from = peer;
    const flow = `${transport}:${peer.address}:${peer.port}`;
    this.flows.set(flow, socket);
    // A message left incomplete too long closes the connection, so slow senders cannot hold sockets.
    let partial: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      this.frame(
        socket,
        from,
        () => buf,
        (b) => (buf = b),
      );
      if (buf.length === 0) {
        clearTimeout(partial);
        partial = undefined;
      } else partial ??= setTimeout(() => socket.destroy(), this.opts.partialMessageTimeoutMs ?? 64 * T1);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(partial);
      this.tcpSockets.delete(socket);
      if (this.flows.get(flow) === socket) this.flows.delete(flow);
    });
    return peer;
  }

  /** Cuts whole messages off the front of a stream's buffer and handles them. */
  private frame(socket: TcpSocket, from: Peer, get: () => Buffer, set: (b: Buffer) => void): void {
    let buf = get();
    try {
      for (;;) {
        // CRLF keep-alives between messages (RFC 5626 §3.5.1).
        let skip = 0;
        while (skip < buf.length && (buf[skip] === 13 || buf[skip] === 10)) skip++;
        // A double-CRLF ping gets its CRLF pong (RFC 5626 §4.4.1): the device's connection is alive.
        if (skip >= 4 && buf.subarray(0, skip).includes('\r\n\r\n') && !socket.destroyed) socket.write('\r\n');
        buf = buf.subarray(skip);
        if (buf.length === 0) return;
        const n = frameLength(buf);
        if (n === 0) return;
        if (n < 0) {
          // The stream cannot be framed any more: answer what we can (400 or 413), then close (RFC 3261 §18.3).
          this.receive(buf.subarray(0, Math.min(buf.length, MAX_MESSAGE_BYTES + 1)), from, n === TOO_LARGE);
          socket.end();
          buf = Buffer.alloc(0);
          return;
        }
        this.receive(buf.subarray(0, n), from);
        buf = buf.subarray(n);
      }
    } finally {
      set(buf);
    }
  }

  /**
   * Where a request of ours in a call goes (RFC 3261 §12.2.1.1): the peer's Contact, over the call's
   * transport. A stream still open is reused; a NATed caller (its Via names another address than
   * the packets came from) is reached where its packets came from, as its Contact is not reachable.
   */
  private targetPeer(d: Dialog): Peer {
    if (d.peer.tcp && !d.peer.tcp.destroyed) return d.peer;
    const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(d.remoteTarget);
    const host = (m?.[1] ?? '').replace(/^\[|\]$/g, '');
    if (d.natted || !isIP(host)) return d.peer;
    const port = Number(m?.[2] ?? (d.peer.transport === 'tls' ? 5061 : 5060));
    if (d.peer.transport === 'udp') return { transport: 'udp', address: host, port };
    const socket =
      d.peer.transport === 'tls'
        ? connectTls({ host, port, rejectUnauthorized: false }) // SIP TLS certificate verification mode: Off
        : connectTcp({ host, port });
    return this.acceptStream(socket, d.peer.transport, { transport: d.peer.transport, address: host, port, tcp: socket });
  }

  private send(peer: Peer, msg: Buffer): void {
    if (peer.transport !== 'udp') {
      if (peer.tcp && !peer.tcp.destroyed) peer.tcp.write(msg);
    } else this.udp?.send(msg, peer.port, peer.address);
  }

  /** Where a response goes (RFC 3261 §18.2.2): the Via's received/rport, which we add, else the source. */
  private reply(peer: Peer, response: SipResponse): Buffer {
    const buf = serializeSipMessage(response);
    this.send(peer, buf);
    return buf;
  }

  /** Never throws: a message we cannot use is answered with 400/413 when it is a readable request, else dropped. */
  private receive(buf: Buffer, peer: Peer, tooLarge?: boolean): void {
    // A CRLF keep-alive datagram: nothing to answer and nothing to log.
    if (buf.every((b) => b === 13 || b === 10)) return;
    try {
      let msg;
      try {
        msg = parseSipMessage(buf, tooLarge);
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
        this.log.info({ peer: `${peer.address}:${peer.port}`, reason: err.message }, 'Malformed SIP message');
        // Answered whenever the top Via says where to (RFC 3261 §8.2.6); an ACK never is.
        if (err.partial && err.partial.method !== 'ACK' && /^SIP\/2\.0\/(UDP|TCP|TLS)\s+\S/i.test(err.partial.headers.get('via')?.[0] ?? '')) {
          this.reply(
            peer,
            makeResponse(
              { headers: err.partial.headers },
              err.status,
              err.status === 413 ? 'Request Entity Too Large' : `Bad Request (${err.message})`,
              randomTag(),
            ),
          );
        }
        return;
      }
      if (msg.kind === 'response') {
        const callId = msg.headers.get('call-id')?.[0] ?? '';
        if (/\bINVITE$/i.test(msg.headers.get('cseq')?.[0] ?? '')) return this.inviteResponse(msg);
        if (/\bINFO$/i.test(msg.headers.get('cseq')?.[0] ?? '')) {
          const branch = headerParam(msg.headers.get('via')?.[0], 'branch') ?? '';
          this.infos.get(branch)?.forEach(clearTimeout);
          this.infos.delete(branch);
          return;
        }
        // Our BYE's answer ends its retransmissions; anything else is stray.
        if (/\bBYE$/i.test(msg.headers.get('cseq')?.[0] ?? '') && msg.status >= 200) {
          this.byes.get(callId)?.forEach(clearTimeout);
          this.byes.delete(callId);
        }
        return;
      }
      this.stampVia(msg, peer);
      this.handleRequest(msg, peer);
    } catch (err) {
      this.log.error({ err }, 'SIP message handling failed');
    }
  }

  /** Adds received/rport to the top Via (RFC 3261 §18.2.1, RFC 3581) so answers reach NATed callers. */
  private stampVia(req: SipRequest, peer: Peer): void {
    const via = req.headers.get('via');
    if (!via?.[0]) return;
    let top = via[0].replace(/;\s*rport(?=;|$)/i, `;rport=${peer.port}`);
    if (!/;\s*received=/i.test(top)) top += `;received=${peer.address}`;
    via[0] = top;
  }

  private key(req: SipRequest, method = req.method): string {
    const branch = headerParam(req.headers.get('via')?.[0], 'branch') ?? '';
    return `${branch}|${req.headers.get('call-id')?.[0] ?? ''}|${method}`;
  }

  private handleRequest(req: SipRequest, peer: Peer): void {
    switch (req.method) {
      case 'INVITE':
        return this.invite(req, peer);
      case 'ACK':
        return this.ack(req);
      case 'CANCEL':
        return this.cancel(req, peer);
      case 'UPDATE':
        return this.update(req, peer);
    }
    const key = this.key(req);
    const cached = this.answered.get(key);
    if (cached) return this.send(peer, cached.response); // a retransmission: the same answer
    let response: SipResponse;
    if (req.method === 'OPTIONS')
      response = makeResponse(req, 200, 'OK', randomTag(), [
        ['Allow', ALLOW],
        ['Accept', 'application/sdp'],
      ]);
    else if (req.method === 'REGISTER' && this.opts.registrar) response = this.opts.registrar.handle(req, peer);
    else if (req.method === 'BYE') response = this.bye(req);
    else if (req.method === 'INFO') response = this.info(req);
    else response = makeResponse(req, 405, 'Method Not Allowed', randomTag(), [['Allow', ALLOW]]);
    const sent = this.reply(peer, response);
    this.answered.set(key, { response: sent, timer: setTimeout(() => this.answered.delete(key), peer.transport === 'udp' ? TIMER_J : 0) });
  }

  private invite(req: SipRequest, peer: Peer): void {
    const key = this.key(req);
    const existing = this.invites.get(key);
    if (existing) {
      // A retransmitted INVITE: repeat the last answer (RFC 3261 §17.2.1).
      if (existing.final) this.reply(peer, existing.final);
      else this.reply(peer, makeResponse(req, 100, 'Trying'));
      return;
    }
    const fromSource = this.invitesBySource.get(peer.address) ?? 0;
    if (this.invites.size >= (this.opts.maxInviteTransactions ?? 2000) || fromSource >= (this.opts.maxInviteTransactionsPerSource ?? 100)) {
      // A flood: refuse without holding state (RFC 3261 §21.5.4), the caller may retry later.
      this.reply(peer, makeResponse(req, 503, 'Service Unavailable', randomTag(), [['Retry-After', '10']]));
      return;
    }
    const tx: InviteTransaction = { request: req, peer, toTag: randomTag(), timers: [] };
    this.invites.set(key, tx);
    this.invitesBySource.set(peer.address, fromSource + 1);
    this.reply(peer, makeResponse(req, 100, 'Trying'));
    void this.decide(req, peer).then(
      (answer) => this.finish(key, tx, answer.status, answer.reason, answer.extra ?? [], answer),
      (err: unknown) => {
        this.log.error({ err }, 'SIP INVITE handling failed');
        this.finish(key, tx, 500, 'Server Internal Error', []);
      },
    );
  }

  /** Which answer an INVITE gets: the alias through the shared lookup, else 404 and the break-in counters. */
  private async decide(req: SipRequest, peer: Peer): Promise<{ status: number; reason: string; extra?: [string, string][] }> {
    if ((req.headers.get('to')?.[0] ?? '').match(/;\s*tag=/i)) {
      const dialog = this.dialogs.get(req.headers.get('call-id')?.[0] ?? '');
      if (!dialog) return { status: 481, reason: 'Call/Transaction Does Not Exist' };
      // A re-INVITE (hold, unhold, new media); one without an offer gets ours, its answer comes in the ACK.
      this.refreshTarget(dialog, req);
      this.refreshSession(dialog, req);
      if (req.body.length === 0) {
        if (!dialog.handlers.reoffer)
          return { status: 488, reason: 'Not Acceptable Here', extra: [['Warning', '399 openmeet "re-INVITE without an offer is not supported"']] };
        const offer = await dialog.handlers.reoffer();
        return { ...offer, extra: [...(offer.extra ?? []), ...this.sessionHeaders(dialog)] };
      }
      const answer = await dialog.handlers.reinvite(req.body.toString('utf8'));
      return { ...answer, extra: [...(answer.extra ?? []), ...this.sessionHeaders(dialog)] };
    }
    const user = uriUser(req.uri);
    const [alias, pin] = splitPin(user ?? '');
    const participant = displayName(req.headers.get('from')?.[0]);
    const attempt: BreakInAttempt = { alias: alias || req.uri, participant, protocol: 'sip', remoteAddress: peer.address };
    if (this.opts.breakIn?.rejectQuarantined(attempt)) return { status: 404, reason: 'Not Found' };
    const service = alias ? (this.opts.directory.lookup(alias) ?? this.opts.directory.lookup(`${alias}@${uriHost(req.uri)}`)) : undefined;
    if (!service) {
      const gateway = alias ? await this.opts.onUnmatchedInvite?.({ alias, pin, request: req, remoteAddress: peer.address }) : undefined;
      if (gateway) return gateway;
      this.opts.breakIn?.unknownAlias(attempt);
      this.log.info({ alias: attempt.alias, from: participant, peer: peer.address }, 'SIP call to an alias that matched nothing');
      return { status: 404, reason: 'Not Found' };
    }
    if (!this.opts.onServiceInvite)
      return { status: 480, reason: 'Temporarily Unavailable', extra: [['Warning', '399 openmeet "SIP media is not available on this node yet"']] };
    return this.opts.onServiceInvite({ service, alias, pin, request: req, remoteAddress: peer.address });
  }

  /** BYE in a dialog ends the call (RFC 3261 §15.1.2); unknown → 481. */
  private bye(req: SipRequest): SipResponse {
    const d = this.dialogs.get(req.headers.get('call-id')?.[0] ?? '');
    if (!d) return makeResponse(req, 481, 'Call/Transaction Does Not Exist');
    this.dropDialog(d);
    d.handlers.ended('Call disconnected');
    return makeResponse(req, 200, 'OK');
  }

  /**
   * Places an INVITE (RFC 3261 §17.1.1): retransmitted over UDP until a provisional answer (Timer A),
   * given up after 64·T1 without a final one (Timer B, 408). A 2xx is ACKed and becomes a call.
   */
  placeCall(opts: OutgoingCallOptions): OutgoingCall {
    const callId = `${randomTag()}${randomTag()}@openmeet`;
    const branch = `z9hG4bK${randomTag()}`;
    const peer = this.peerFor(opts.peer);
    const via = `SIP/2.0/${peer.transport.toUpperCase()} ${this.localAddress(peer)};branch=${branch};rport`;
    const from = `${opts.from};tag=${randomTag()}`;
    const headers = new Map<string, string[]>([
      ['via', [via]],
      ['max-forwards', ['70']],
      ['from', [from]],
      ['to', [opts.to]],
      ['call-id', [callId]],
      ['cseq', ['1 INVITE']],
      ['contact', [`<sip:${this.localAddress(peer)};transport=${peer.transport}>`]],
      ['allow', [ALLOW]],
      ...(opts.body ? ([['content-type', [opts.contentType ?? 'application/sdp']]] as [string, string[]][]) : []),
    ]);
    const request = serializeSipMessage({ kind: 'request', method: 'INVITE', uri: opts.target, headers, body: opts.body ?? Buffer.alloc(0) });
    let resolve!: (a: OutgoingCallAnswer) => void;
    const answer = new Promise<OutgoingCallAnswer>((r) => (resolve = r));
    const tx: ClientInvite = {
      opts,
      peer,
      callId,
      branch,
      via,
      from,
      request,
      timers: [],
      provisional: false,
      cancelWanted: false,
      cancelSent: false,
      done: false,
      resolve,
    };
    this.clientInvites.set(branch, tx);
    this.send(peer, request);
    if (peer.transport === 'udp') {
      let interval = T1;
      const again = () => {
        if (tx.done || tx.provisional) return;
        this.send(peer, request);
        interval *= 2;
        tx.timers.push(setTimeout(again, interval));
      };
      tx.timers.push(setTimeout(again, interval));
    }
    tx.timers.push(setTimeout(() => this.clientFinal(tx, { status: 408, reason: 'Request Timeout', body: Buffer.alloc(0), headers: new Map() }), TIMER_B));
    return {
      callId,
      answer,
      cancel: () => {
        tx.cancelWanted = true;
        if (tx.provisional) this.sendCancel(tx);
      },
    };
  }

  /** A stream to a device, or its UDP address. */
  private peerFor(p: OutgoingCallOptions['peer']): Peer {
    if (p.transport === 'udp') return { ...p };
    // The connection a device registered over, while it is open (a device behind NAT cannot be connected to).
    const open = this.flows.get(`${p.transport}:${p.address}:${p.port}`);
    if (open && !open.destroyed) return { ...p, tcp: open };
    const socket =
      p.transport === 'tls'
        ? connectTls({ host: p.address, port: p.port, rejectUnauthorized: false }) // SIP TLS certificate verification mode: Off
        : connectTcp({ host: p.address, port: p.port });
    return this.acceptStream(socket, p.transport, { ...p, tcp: socket });
  }

  private sendCancel(tx: ClientInvite): void {
    if (tx.cancelSent || tx.done) return;
    tx.cancelSent = true;
    const headers = new Map<string, string[]>([
      ['via', [tx.via]],
      ['max-forwards', ['70']],
      ['from', [tx.from]],
      ['to', [tx.opts.to]],
      ['call-id', [tx.callId]],
      ['cseq', ['1 CANCEL']],
    ]);
    const cancel = serializeSipMessage({ kind: 'request', method: 'CANCEL', uri: tx.opts.target, headers, body: Buffer.alloc(0) });
    this.send(tx.peer, cancel);
    if (tx.peer.transport === 'udp') {
      // Retransmitted until the INVITE's final answer (the 487) ends the transaction.
      let interval = T1;
      const again = () => {
        if (tx.done) return;
        this.send(tx.peer, cancel);
        interval = Math.min(interval * 2, T2);
        tx.timers.push(setTimeout(again, interval));
      };
      tx.timers.push(setTimeout(again, interval));
    }
  }

  /** An answer to an INVITE we placed (or a retransmitted 2xx of a call we already ACKed). */
  private inviteResponse(res: SipResponse): void {
    const callId = res.headers.get('call-id')?.[0] ?? '';
    const tx = this.clientInvites.get(headerParam(res.headers.get('via')?.[0], 'branch') ?? '');
    if (!tx || tx.done) {
      // A 2xx retransmitted because our ACK was lost (RFC 3261 §13.2.2.4): ACK again.
      const acked = this.acks.get(callId);
      if (acked && res.status >= 200 && res.status < 300) this.send(acked.peer, acked.ack);
      return;
    }
    if (res.status < 200) {
      tx.provisional = true;
      if (tx.cancelWanted) this.sendCancel(tx);
      tx.opts.onProvisional?.(res.status);
      return;
    }
    const to = res.headers.get('to')?.[0] ?? tx.opts.to;
    if (res.status >= 300) {
      // ACK for a non-2xx: same branch, part of the INVITE's transaction (§17.1.1.3).
      const ack = new Map<string, string[]>([
        ['via', [tx.via]],
        ['max-forwards', ['70']],
        ['from', [tx.from]],
        ['to', [to]],
        ['call-id', [tx.callId]],
        ['cseq', ['1 ACK']],
      ]);
      this.send(tx.peer, serializeSipMessage({ kind: 'request', method: 'ACK', uri: tx.opts.target, headers: ack, body: Buffer.alloc(0) }));
      this.clientFinal(tx, { status: res.status, reason: res.reason, body: res.body, headers: res.headers });
      return;
    }
    // 2xx: a call. The ACK is a new transaction to the answerer's Contact (§13.2.2.4).
    const remoteTarget = /<([^>]+)>/.exec(res.headers.get('contact')?.[0] ?? '')?.[1] ?? tx.opts.target;
    const dialog: Dialog = { callId: tx.callId, peer: tx.peer, natted: false, from: to, to: tx.from, remoteTarget, localCseq: 1, handlers: tx.opts.dialog };
    const ackHeaders = new Map<string, string[]>([
      ['via', [`SIP/2.0/${tx.peer.transport.toUpperCase()} ${this.localAddress(tx.peer)};branch=z9hG4bK${randomTag()};rport`]],
      ['max-forwards', ['70']],
      ['from', [tx.from]],
      ['to', [to]],
      ['call-id', [tx.callId]],
      ['cseq', ['1 ACK']],
    ]);
    const ack = serializeSipMessage({ kind: 'request', method: 'ACK', uri: remoteTarget, headers: ackHeaders, body: Buffer.alloc(0) });
    const target = this.targetPeer(dialog);
    this.send(target, ack);
    this.acks.set(tx.callId, { peer: target, ack, timer: setTimeout(() => this.acks.delete(tx.callId), TIMER_B) });
    this.dialogs.set(tx.callId, dialog);
    const cancelled = tx.cancelWanted;
    this.clientFinal(tx, { status: res.status, reason: res.reason, body: res.body, headers: res.headers });
    // Answered as our CANCEL crossed it: the call nobody wants any more is ended at once (RFC 3261 §9.1).
    if (cancelled) this.hangUp(tx.callId);
  }

  private clientFinal(tx: ClientInvite, answer: OutgoingCallAnswer): void {
    if (tx.done) return;
    tx.done = true;
    tx.timers.forEach(clearTimeout);
    this.clientInvites.delete(tx.branch);
    tx.resolve(answer);
  }

  /** INFO in a dialog (RFC 6086): handed to the call, 200; outside one → 481. */
  private info(req: SipRequest): SipResponse {
    const d = this.dialogs.get(req.headers.get('call-id')?.[0] ?? '');
    if (!d) return makeResponse(req, 481, 'Call/Transaction Does Not Exist');
    d.handlers.info?.(req.headers.get('content-type')?.[0] ?? '', req.body);
    return makeResponse(req, 200, 'OK');
  }

  /**
   * UPDATE in a dialog (RFC 3311): an offer is answered as a re-INVITE's would be; without one it
   * refreshes the session timer. Answered once, then repeated for retransmissions like other non-INVITEs.
   */
  private update(req: SipRequest, peer: Peer): void {
    const key = this.key(req);
    const cached = this.answered.get(key);
    if (cached) return this.send(peer, cached.response);
    const keep = (response: SipResponse) => {
      const sent = this.reply(peer, response);
      this.answered.set(key, { response: sent, timer: setTimeout(() => this.answered.delete(key), peer.transport === 'udp' ? TIMER_J : 0) });
    };
    const d = this.dialogs.get(req.headers.get('call-id')?.[0] ?? '');
    if (!d) return keep(makeResponse(req, 481, 'Call/Transaction Does Not Exist'));
    this.refreshTarget(d, req);
    this.refreshSession(d, req);
    const done = (answer: SipInviteAnswer) => {
      const extra: [string, string][] = [...(answer.extra ?? []), ...this.sessionHeaders(d)];
      if (answer.status < 300) extra.push(['Contact', `<sip:${this.localAddress(d.peer)};transport=${d.peer.transport}>`]);
      if (answer.body) extra.push(['Content-Type', answer.contentType ?? 'application/sdp']);
      const response = makeResponse(req, answer.status, answer.reason, undefined, extra);
      if (answer.body) response.body = answer.body;
      keep(response);
    };
    if (req.body.length === 0) return done({ status: 200, reason: 'OK' });
    d.handlers.reinvite(req.body.toString('utf8')).then(done, (err: unknown) => {
      this.log.error({ err }, 'SIP UPDATE handling failed');
      done({ status: 500, reason: 'Server Internal Error' });
    });
  }

  /** A target refresh (re-INVITE, UPDATE): a new Contact is where our requests go from now on (RFC 3261 §12.2.2). */
  private refreshTarget(d: Dialog, req: SipRequest): void {
    const contact = /<([^>]+)>/.exec(req.headers.get('contact')?.[0] ?? '')?.[1];
    if (contact) d.remoteTarget = contact;
  }

  /** Session timers (RFC 4028) when the peer asks: it refreshes; without a refresh the call ends. */
  private refreshSession(d: Dialog, req: SipRequest): void {
    const asked = Number(/^\s*(\d+)/.exec(req.headers.get('session-expires')?.[0] ?? '')?.[1]);
    if (!Number.isFinite(asked) || asked <= 0) return;
    d.sessionExpires = Math.max(90, asked);
    const clock = this.opts.clock ?? systemClock;
    clock.clearTimeout(d.sessionTimer);
    // RFC 4028 §10: the call ends when no refresh arrives by expiry minus min(32, expiry/3).
    d.sessionTimer = clock
      .setTimeout(
        () => {
          if (this.dialogs.get(d.callId) !== d) return;
          this.hangUp(d.callId);
          d.handlers.ended('Session timer expired');
        },
        (d.sessionExpires - Math.min(32, d.sessionExpires / 3)) * 1000,
      )
      .unref();
  }

  private sessionHeaders(d: Dialog): [string, string][] {
    return d.sessionExpires
      ? [
          ['Session-Expires', `${d.sessionExpires};refresher=uac`],
          ['Require', 'timer'],
        ]
      : [];
  }

  /** Sends the INVITE's final answer; a non-2xx is retransmitted over UDP until its ACK (timers G and H). */
  private finish(key: string, tx: InviteTransaction, status: number, reason: string, extra: [string, string][], answer?: SipInviteAnswer): void {
    if (tx.final || !this.invites.has(key)) {
      // CANCELled or stopped while the call was being set up: the call it made is ended.
      if (status < 300) answer?.dialog?.ended('Call cancelled');
      return;
    }
    const callId = tx.request.headers.get('call-id')?.[0] ?? '';
    const inDialog = this.dialogs.get(callId);
    const starts = status >= 200 && status < 300 && answer?.dialog && !inDialog;
    let dialog: Dialog | undefined = inDialog;
    if (starts) {
      dialog = {
        callId,
        peer: tx.peer,
        natted: viaHost(tx.request.headers.get('via')?.[0]) !== tx.peer.address,
        from: tx.request.headers.get('from')?.[0] ?? '',
        to: `${tx.request.headers.get('to')?.[0] ?? ''};tag=${tx.toTag}`,
        remoteTarget: /<([^>]+)>/.exec(tx.request.headers.get('contact')?.[0] ?? '')?.[1] ?? tx.request.uri,
        localCseq: 1,
        handlers: answer!.dialog!,
      };
      this.refreshSession(dialog, tx.request);
      extra = [...extra, ...this.sessionHeaders(dialog)];
    }
    if (status >= 200 && status < 300) extra = [...extra, ['Contact', `<sip:${this.localAddress(tx.peer)};transport=${tx.peer.transport}>`], ['Allow', ALLOW]];
    if (answer?.body) extra = [...extra, ['Content-Type', answer.contentType ?? 'application/sdp']];
    const response = makeResponse(tx.request, status, reason, tx.toTag, extra);
    if (answer?.body) response.body = answer.body;
    tx.final = response;
    this.reply(tx.peer, response);
    if (status >= 200 && status < 300 && dialog) {
      // A 2xx ends the transaction (RFC 3261 §17.2.1); the dialog retransmits it until the ACK (§13.3.1.4).
      this.end(key);
      if (starts) this.dialogs.set(callId, dialog);
      // An INVITE without SDP answered with a body: our offer, whose answer the ACK carries.
      const unacked = { response, timers: [] as NodeJS.Timeout[], carriesOffer: tx.request.body.length === 0 && !!answer?.body };
      dialog.unacked?.timers.forEach(clearTimeout);
      dialog.unacked = unacked;
      const d = dialog;
      if (tx.peer.transport === 'udp') {
        let interval = T1;
        const again = () => {
          if (d.unacked !== unacked) return;
          this.reply(d.peer, response);
          interval = Math.min(interval * 2, T2);
          unacked.timers.push(setTimeout(again, interval));
        };
        unacked.timers.push(setTimeout(again, interval));
      }
      unacked.timers.push(
        setTimeout(() => {
          if (d.unacked !== unacked || !starts) return;
          // No ACK within 64*T1: the call is ended with a BYE (§13.3.1.4).
          this.hangUp(d.callId);
          d.handlers.ended('Call failed: no ACK');
        }, TIMER_H),
      );
      return;
    }
    if (tx.peer.transport === 'udp') {
      let interval = T1;
      const retransmit = () => {
        if (!this.invites.has(key)) return;
        this.reply(tx.peer, response);
        interval = Math.min(interval * 2, T2);
        tx.timers.push(setTimeout(retransmit, interval));
      };
      tx.timers.push(setTimeout(retransmit, interval));
    }
    // Timer H: stop waiting for the ACK.
    tx.timers.push(setTimeout(() => this.end(key), tx.peer.transport === 'udp' ? TIMER_H : 0));
  }

  private end(key: string): void {
    const tx = this.invites.get(key);
    if (!tx) return;
    tx.timers.forEach(clearTimeout);
    this.invites.delete(key);
    const left = (this.invitesBySource.get(tx.peer.address) ?? 1) - 1;
    if (left > 0) this.invitesBySource.set(tx.peer.address, left);
    else this.invitesBySource.delete(tx.peer.address);
  }

  /** ACK for a non-2xx answer matches the INVITE's transaction (same branch) and ends it. */
  private ack(req: SipRequest): void {
    const d = this.dialogs.get(req.headers.get('call-id')?.[0] ?? '');
    if (d?.unacked && /;\s*tag=/i.test(req.headers.get('to')?.[0] ?? '')) {
      const { carriesOffer } = d.unacked;
      d.unacked.timers.forEach(clearTimeout);
      delete d.unacked;
      // The first ACK only (a retransmitted one finds no unacked 2xx), and only where it holds an answer.
      if (carriesOffer) d.handlers.acked?.(req.body.toString('utf8'));
    }
    const key = this.key(req, 'INVITE');
    const tx = this.invites.get(key);
    if (!tx?.final) return;
    // Ended at once rather than after Timer I: a retransmitted ACK then matches nothing and is
    // dropped, which is all Timer I is for, and a busy node holds no state for answered calls.
    this.end(key);
  }

  /** CANCEL (RFC 3261 §9.2): 200 to the CANCEL; an INVITE still unanswered gets 487. */
  private cancel(req: SipRequest, peer: Peer): void {
    const key = this.key(req, 'INVITE');
    const tx = this.invites.get(key);
    if (!tx) {
      this.reply(peer, makeResponse(req, 481, 'Call/Transaction Does Not Exist', randomTag()));
      return;
    }
    this.reply(peer, makeResponse(req, 200, 'OK', tx.toTag));
    if (!tx.final) this.finish(key, tx, 487, 'Request Terminated', []);
  }
}

function randomTag(): string {
  return randomBytes(6).toString('hex');
}

/** `alias**PIN` carries the PIN in the dial string (guide: dialling with the PIN). */
export function splitPin(user: string): [string, string | undefined] {
  const i = user.indexOf('**');
  return i < 0 ? [user, undefined] : [user.slice(0, i), user.slice(i + 2) || undefined];
}

/** The host the top Via names (sent-by), before our received= stamp. */
function viaHost(via: string | undefined): string {
  const m = /^SIP\/2\.0\/\S+\s+(\[[^\]]+\]|[^:;\s]+)/i.exec(via ?? '');
  return (m?.[1] ?? '').replace(/^\[|\]$/g, '');
}

function closeServer(server: TcpServer | TlsServer): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

function uriHost(uri: string): string {
  return /@([^;?>:]+)/.exec(uri)?.[1] ?? '';
}

/** The From's display name, else its URI. */
function displayName(from: string | undefined): string {
  if (!from) return '';
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"/.exec(from);
  if (quoted?.[1] !== undefined) return quoted[1];
  const bare = /^\s*([^<]+?)\s*</.exec(from);
  if (bare?.[1] !== undefined) return bare[1];
  return /<([^>]+)>/.exec(from)?.[1] ?? (from.split(';')[0] ?? '').trim();
}
