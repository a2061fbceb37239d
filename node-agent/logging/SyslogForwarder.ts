import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { DestinationStream, Logger } from 'pino';
import type { SyslogServerConfig } from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import { FACILITY, STREAM_MAX_OCTETS, UDP_MAX_OCTETS, formatRfc5424, octetFrame, parsePinoLine, severityOfPinoLevel, truncateUtf8 } from './rfc5424.js';

/**
 * Sends the node's own logs to the remote syslog servers of its system location (guide: System >
 * Syslog servers — each node sends its own logs directly; each server receives the log types
 * selected for it).
 *
 * What goes where:
 * - **Support log** (`supportLog`): everything the node logs at `level` and above, facility local2.
 *   The node has no separate administrator log, so nothing is sent on local0.
 * - **Web server log** (`webLog`, local7): the node does not log HTTP request lines (its HTTP
 *   logger is at `warn`), so there is nothing to send.
 * - **Audit log** (`auditLog`, local6): the Linux audit log; a node agent has none, so a server
 *   with only the audit log selected gets nothing (and no connection is opened to it).
 *
 * A syslog server that is down, slow or refusing never blocks or crashes the node: `write` only
 * formats and queues; each TCP/TLS server has a bounded queue (the oldest messages are dropped, and
 * counted, when it is full) and reconnects with exponential backoff; UDP sends are fire-and-forget
 * with a bound on sends in flight. Changes from `apply` take effect at once, without a restart.
 */

export interface SyslogForwarderOptions {
  /** HOSTNAME of each message: the node's name. */
  hostname: string;
  appName?: string;
  procId?: string;
  /** Lowest pino level forwarded; default info (30). */
  level?: number;
  /** Messages kept per TCP/TLS server while it is unreachable; default 1000. */
  maxQueue?: number;
  /** Reconnect backoff for TCP/TLS: first delay and cap (ms); default 500 ms … 30 s. */
  backoffMs?: { initial: number; max: number };
  /** TCP/TLS connect (and TLS handshake) timeout; default 5 s. */
  connectTimeoutMs?: number;
  /**
   * Extra trusted CAs for TLS servers (PEM), added to Node's defaults. The server certificate is
   * always verified (host name and chain) as Node does by default; this exists for private CAs.
   */
  tlsCa?: string | string[];
  /** Where the forwarder reports its own state changes (server lost / reachable again). */
  log?: Logger;
  /** Drives the reconnection backoff; default the system clock (tests move a ManualClock). */
  clock?: Clock;
}

/** The log types of the guide, and the facility each one is sent with. */
const SUPPORT_FACILITY = FACILITY.local2;

export interface SyslogServerStats {
  key: string;
  transport: SyslogServerConfig['transport'];
  /** TCP/TLS: a connection is established. UDP: always true. */
  connected: boolean;
  sent: number;
  dropped: number;
  errors: number;
  queued: number;
}

const keyOf = (s: SyslogServerConfig) => `${s.transport}://${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`;

interface Sender {
  readonly key: string;
  config: SyslogServerConfig;
  send(message: string): void;
  stats(): SyslogServerStats;
  close(): void;
}

class UdpSender implements Sender {
  private readonly socket: dgram.Socket;
  private inFlight = 0;
  private sent = 0;
  private dropped = 0;
  private errors = 0;
  private closed = false;

  constructor(
    readonly key: string,
    public config: SyslogServerConfig,
    private readonly maxInFlight: number,
  ) {
    this.socket = dgram.createSocket(net.isIPv6(config.address) ? 'udp6' : 'udp4');
    this.socket.on('error', () => void this.errors++);
    this.socket.unref();
  }

  send(message: string): void {
    if (this.closed) return;
    if (this.inFlight >= this.maxInFlight) {
      this.dropped++;
      return;
    }
    this.inFlight++;
    try {
      this.socket.send(truncateUtf8(message, UDP_MAX_OCTETS), this.config.port, this.config.address, (err) => {
        this.inFlight--;
        if (err) this.errors++;
        else this.sent++;
      });
    } catch {
      this.inFlight--;
      this.errors++;
    }
  }

  stats(): SyslogServerStats {
    return { key: this.key, transport: 'udp', connected: true, sent: this.sent, dropped: this.dropped, errors: this.errors, queued: this.inFlight };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/** TCP or TLS with RFC 6587 octet-counting framing, a bounded queue and reconnection with backoff. */
class StreamSender implements Sender {
  private socket: net.Socket | null = null;
  private connected = false;
  private readonly queue: Buffer[] = [];
  private backoff: number;
  private timer: ClockTimer | null = null;
  private closed = false;
  /** Reported once per outage, not once per attempt. */
  private reportedDown = false;
  private sent = 0;
  private dropped = 0;
  private errors = 0;

  constructor(
    readonly key: string,
    public config: SyslogServerConfig,
    private readonly opts: Required<Pick<SyslogForwarderOptions, 'maxQueue' | 'backoffMs' | 'connectTimeoutMs' | 'clock'>> &
      Pick<SyslogForwarderOptions, 'tlsCa'>,
    private readonly log: () => Logger | undefined,
    /** Told when the server becomes inaccessible and reachable again (the node's alarm). */
    private readonly reachability: (server: string, reachable: boolean, detail: string) => void = () => {},
  ) {
    this.backoff = opts.backoffMs.initial;
    this.connect();
  }

  send(message: string): void {
    if (this.closed) return;
    this.queue.push(octetFrame(truncateUtf8(message, STREAM_MAX_OCTETS)));
    while (this.queue.length > this.opts.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.flush();
  }

  private connect(): void {
    if (this.closed) return;
    const { address: host, port, transport } = this.config;
    const socket =
      transport === 'tls'
        ? tls.connect({
            host,
            port,
            ...(net.isIP(host) ? {} : { servername: host }),
            ...(this.opts.tlsCa ? { ca: [...tls.rootCertificates, ...[this.opts.tlsCa].flat()] } : {}),
          })
        : net.connect({ host, port });
    this.socket = socket;
    socket.unref();
    socket.setTimeout(this.opts.connectTimeoutMs, () => {
      if (!this.connected) socket.destroy(new Error('connect timeout'));
    });
    socket.on(transport === 'tls' ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket) return;
      socket.setTimeout(0);
      socket.setKeepAlive(true, 30_000);
      this.connected = true;
      this.backoff = this.opts.backoffMs.initial;
      if (this.reportedDown) {
        this.log()?.info({ server: this.key }, 'syslog server reachable again');
        this.reachability(this.key, true, '');
      }
      this.reportedDown = false;
      this.flush();
    });
    // A syslog server sends nothing; read and discard whatever arrives so the socket never stalls.
    socket.on('data', () => {});
    socket.on('drain', () => this.flush());
    socket.on('error', (err) => {
      this.errors++;
      if (!this.reportedDown && !this.closed) {
        this.reportedDown = true;
        // The message only: error objects can carry far more than needed, never secrets here though.
        this.log()?.warn({ server: this.key, error: err.message }, 'syslog server inaccessible');
        this.reachability(this.key, false, err.message);
      }
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.connected = false;
      if (this.closed) return;
      if (!this.reportedDown) {
        this.reportedDown = true;
        this.log()?.warn({ server: this.key }, 'syslog server inaccessible: connection dropped');
        this.reachability(this.key, false, 'connection dropped');
      }
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = null;
        this.connect();
      }, this.backoff);
      this.timer.unref();
      this.backoff = Math.min(this.backoff * 2, this.opts.backoffMs.max);
    });
  }

  private flush(): void {
    const socket = this.socket;
    if (!socket || !this.connected || socket.writableNeedDrain) return;
    while (this.queue.length > 0) {
      const frame = this.queue.shift()!;
      this.sent++;
      // false = the kernel buffer is full: the frame is buffered; wait for 'drain' before more.
      if (!socket.write(frame)) break;
    }
  }

  stats(): SyslogServerStats {
    return {
      key: this.key,
      transport: this.config.transport,
      connected: this.connected,
      sent: this.sent,
      dropped: this.dropped,
      errors: this.errors,
      queued: this.queue.length,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) {
      // Let what was already written go out, but never wait long for a stuck server.
      socket.end();
      setTimeout(() => socket.destroy(), 1_000).unref();
    }
  }
}

export class SyslogForwarder {
  private readonly senders = new Map<string, Sender>();
  private readonly opts: Required<Omit<SyslogForwarderOptions, 'tlsCa' | 'log'>> & Pick<SyslogForwarderOptions, 'tlsCa'>;
  private log: Logger | undefined;
  private closed = false;
  /** Told when a TCP/TLS server becomes inaccessible or reachable again, or is no longer configured (reachable: nothing to alarm about). */
  onReachability: ((server: string, reachable: boolean, detail: string) => void) | null = null;

  constructor(opts: SyslogForwarderOptions) {
    this.opts = {
      hostname: opts.hostname,
      appName: opts.appName ?? 'openmeet-node',
      procId: opts.procId ?? String(process.pid),
      level: opts.level ?? 30,
      maxQueue: opts.maxQueue ?? 1000,
      backoffMs: opts.backoffMs ?? { initial: 500, max: 30_000 },
      connectTimeoutMs: opts.connectTimeoutMs ?? 5_000,
      clock: opts.clock ?? systemClock,
      tlsCa: opts.tlsCa,
    };
    this.log = opts.log;
  }

  /** Set after construction when the logger itself is built on `destination` (see teeLogger). */
  setLogger(log: Logger): void {
    this.log = log;
  }

  /**
   * The support log as a pino destination: each call is one JSON line. Never throws and never
   * waits: with no server configured it returns at once without parsing.
   */
  get destination(): DestinationStream {
    return { write: (line: string) => this.write(line) };
  }

  write(line: string): void {
    if (this.senders.size === 0) return;
    try {
      const parsed = parsePinoLine(line);
      if (!parsed || parsed.level < this.opts.level) return;
      let message: string | null = null;
      for (const sender of this.senders.values()) {
        if (!sender.config.supportLog) continue;
        message ??= formatRfc5424({
          facility: SUPPORT_FACILITY,
          severity: severityOfPinoLevel(parsed.level),
          time: parsed.time,
          hostname: this.opts.hostname,
          appName: this.opts.appName,
          procId: this.opts.procId,
          msgId: parsed.part,
          msg: parsed.text,
        });
        sender.send(message);
      }
    } catch {
      // Logging must never break the caller.
    }
  }

  /**
   * Follows the location's syslog servers: new ones start, removed ones stop, changed ones restart
   * (a server is identified by transport, address and port; its log selection is updated in place).
   */
  apply(servers: readonly SyslogServerConfig[]): void {
    if (this.closed) return;
    const wanted = new Map<string, SyslogServerConfig>();
    for (const s of servers) {
      // Only the support log is produced on a node (see the class comment).
      if (!s.supportLog) continue;
      const key = keyOf(s);
      const prev = wanted.get(key);
      wanted.set(key, prev ? { ...s, supportLog: true, auditLog: prev.auditLog || s.auditLog, webLog: prev.webLog || s.webLog } : s);
    }
    for (const [key, sender] of this.senders) {
      if (!wanted.has(key)) {
        sender.close();
        this.senders.delete(key);
        this.onReachability?.(key, true, '');
      }
    }
    for (const [key, config] of wanted) {
      const existing = this.senders.get(key);
      if (existing) {
        existing.config = config;
        continue;
      }
      this.senders.set(
        key,
        config.transport === 'udp'
          ? new UdpSender(key, config, this.opts.maxQueue)
          : new StreamSender(
              key,
              config,
              {
                maxQueue: this.opts.maxQueue,
                backoffMs: this.opts.backoffMs,
                connectTimeoutMs: this.opts.connectTimeoutMs,
                clock: this.opts.clock,
                tlsCa: this.opts.tlsCa,
              },
              () => this.log,
              (server, reachable, detail) => this.onReachability?.(server, reachable, detail),
            ),
      );
    }
  }

  /** One entry per server currently sent to. */
  stats(): SyslogServerStats[] {
    return [...this.senders.values()].map((s) => s.stats());
  }

  close(): void {
    this.closed = true;
    for (const s of this.senders.values()) s.close();
    this.senders.clear();
  }
}
