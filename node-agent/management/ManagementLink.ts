import type { RemoteLegMessage } from '../../shared/node-protocol/remoteMedia.js';
import type { NodeCommand } from '../../shared/node-protocol/commands.js';
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import {
  FINAL_REJECTIONS,
  NODE_HEARTBEAT,
  NODE_WS_PATH,
  nodeConfigSnapshotSchema,
  serverToNodeSchema,
  type LiveConference,
  type NodeConfigSnapshot,
  type NodeRejectionCode,
  type NodeToServer,
  type ServerToNode,
} from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import { NodeIdentity } from './NodeIdentity.js';

export interface ManagementLinkOptions {
  /**
   * e.g. http://127.0.0.1:8080 (this machine), https://mgmt.example.com:9443 (the link then runs over TLS).
   * Several management servers sharing one database: their addresses separated by commas; the link
   * moves to the next one whenever its connection ends or cannot be made.
   */
  managementUrl: string;
  /**
   * Trust for an https:// management URL: the server's certificate as PEM (its self-signed one
   * included), or its SHA-256 fingerprint (pinned: nothing is sent to a server that shows another).
   * Default: the system's CAs (and NODE_EXTRA_CA_CERTS).
   */
  managementTls?: { ca?: string; fingerprint?: string };
  /** The platform's enrollment key (quick start: the local node enrolls with it, from loopback only). */
  enrollmentKey?: string;
  /** A one-time enrollment token issued for this node in the console (a deployment bundle carries it). */
  enrollmentToken?: string;
  /** Ping interval and silence limit towards the management server; default NODE_HEARTBEAT. */
  heartbeat?: { intervalMs: number; timeoutMs: number };
  /** Drives the heartbeat, silence and reconnection backoff; default the system clock (tests move a ManualClock). */
  clock?: Clock;
  name: string;
  hostname: string;
  address: string;
  clientApiUrl: string;
  version: string;
  /** Where the last configuration is kept, so the node serves calls without the management server. */
  dataDir: string;
  /** Everything live on the node, resent after each (re)connection. */
  liveStatus: () => LiveConference[];
  log: Logger;
}

export interface ManagementLinkEvents {
  config: [NodeConfigSnapshot, source: 'disk' | 'management'];
  connected: [nodeId: number];
  disconnected: [];
  rejected: [reason: string, code: NodeRejectionCode | undefined];
  /** Revoked or deleted by an administrator: the node must stop serving. */
  decommissioned: [reason: string];
  /** An administrator lifted a break-in block. */
  liftBreakInBlock: [kind: 'service' | 'address', key: string];
  /** An administrator's command on a conference or participant; answer with `command_result`. */
  command: [requestId: string, command: NodeCommand];
  /** The live nodes' media load, for media allocation. */
  platformLoad: [nodes: Extract<ServerToNode, { type: 'platform_load' }>['nodes']];
  /** The server opened or closed a backplane, or relays the peer node's end of one. */
  backplane: [msg: BackplaneFromServer];
  /** Another node's message about a call whose media or signalling is there (remoteMedia.ts). */
  mediaRelay: [fromNode: number, message: RemoteLegMessage];
}

/** What the management server says about backplanes (issue 14). */
export type BackplaneFromServer = Extract<
  ServerToNode,
  { type: 'backplane_open' | 'backplane_transport' | 'backplane_streams' | 'backplane_control' | 'backplane_close' }
>;

/** The management server addresses in a `managementUrl` (comma-separated when several servers share one database). */
export const managementUrls = (list: string): string[] => {
  const urls = list
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  return urls.length > 0 ? urls : [list];
};

const normaliseFingerprint = (f: string) => f.replace(/[^0-9a-f]/gi, '').toLowerCase();

/** The node agent's outbound WebSocket to the management server, with reconnection and a config cache. */
export class ManagementLink extends EventEmitter<ManagementLinkEvents> {
  private ws: WebSocket | null = null;
  private current: NodeConfigSnapshot | null = null;
  private backoffMs = 500;
  private reconnectTimer: ClockTimer | null = null;
  private stopped = false;
  private connectedFlag = false;
  private identity: NodeIdentity | null = null;
  private sessionToken: string | null = null;
  private heartbeatTimer: ClockTimer | null = null;
  private readonly clock: Clock;
  private decommissionedFlag = false;
  private readonly urls: string[];
  private urlIndex = 0;

  constructor(private readonly opts: ManagementLinkOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.urls = managementUrls(opts.managementUrl);
  }

  /** The management server this link uses now (or tries next): where the node's HTTP requests to the server go too. */
  get managementUrl(): string {
    return this.urls[this.urlIndex]!;
  }

  get config(): NodeConfigSnapshot | null {
    return this.current;
  }

  get connected(): boolean {
    return this.connectedFlag;
  }

  /** Given in the welcome; authenticates the node's HTTP requests to the server while connected. */
  get session(): string | null {
    return this.connectedFlag ? this.sessionToken : null;
  }

  /** Revoked or deleted by an administrator: serves nothing more. */
  get decommissioned(): boolean {
    return this.decommissionedFlag;
  }

  /** The node's public key (base64 SPKI), once started. */
  get publicKey(): string | null {
    return this.identity?.publicKey ?? null;
  }

  private get cacheFile(): string {
    return join(this.opts.dataDir, 'config.json');
  }

  async start(): Promise<void> {
    await mkdir(this.opts.dataDir, { recursive: true });
    this.identity = await NodeIdentity.load(this.opts.dataDir);
    try {
      const cached = nodeConfigSnapshotSchema.parse(JSON.parse(await readFile(this.cacheFile, 'utf8')));
      this.current = cached;
      this.emit('config', cached, 'disk');
      this.opts.log.info({ version: cached.version, services: cached.services.length }, 'loaded cached configuration');
    } catch {
      // No cache yet (first start) or unreadable: wait for the management server.
    }
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.managementUrl.replace(/^http/, 'ws').replace(/\/$/, '') + NODE_WS_PATH;
    const trust = this.opts.managementTls;
    const ws = new WebSocket(url, {
      handshakeTimeout: 5_000,
      ...(trust?.ca ? { ca: trust.ca } : {}),
      ...(trust?.fingerprint ? { rejectUnauthorized: false } : {}),
    });
    this.ws = ws;
    if (trust?.fingerprint) {
      // Checked before the first frame either way: a server with another certificate gets nothing.
      const pinned = normaliseFingerprint(trust.fingerprint);
      ws.on('upgrade', (res) => {
        const shown = (res.socket as TLSSocket).getPeerCertificate?.()?.fingerprint256;
        if (!shown || normaliseFingerprint(shown) !== pinned) {
          this.opts.log.error({ shown: shown ?? null }, 'the management server’s certificate does not match the pinned fingerprint; not connecting');
          ws.terminate();
        }
      });
    }
    // The server speaks first (a challenge); the hello answers it.
    let lastHeard = this.clock.now();
    const heard = () => (lastHeard = this.clock.now());
    ws.on('open', () => {
      heard();
      const hb = this.opts.heartbeat ?? NODE_HEARTBEAT;
      // A frozen server keeps the TCP connection open: only its silence tells.
      let lastBeat = this.clock.now();
      this.heartbeatTimer = this.clock.setInterval(() => {
        // Late (this process was paused or its loop stalled): the server's answers may be unread yet.
        const stalled = this.clock.now() - lastBeat > hb.intervalMs * 2;
        lastBeat = this.clock.now();
        if (!stalled && this.clock.now() - lastHeard > hb.timeoutMs) {
          this.opts.log.warn({ silentMs: this.clock.now() - lastHeard }, 'management server silent; reconnecting');
          ws.terminate();
          return;
        }
        ws.ping();
      }, hb.intervalMs);
    });
    ws.on('pong', heard);
    ws.on('ping', heard);
    ws.on('message', (data) => {
      heard();
      void this.onMessage(String(data));
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.clock.clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = null;
      this.ws = null;
      // Another management server on the same database serves as well: try the next address.
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      if (this.connectedFlag) {
        this.connectedFlag = false;
        this.emit('disconnected');
        this.opts.log.warn('lost the management server; serving calls from the last configuration');
      }
      this.scheduleReconnect();
    });
    ws.on('error', () => {});
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
  }

  private async onMessage(text: string): Promise<void> {
    let parsed;
    try {
      parsed = serverToNodeSchema.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (!parsed.success) {
      this.opts.log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'invalid message from management server');
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'challenge') {
      const identity = this.identity!;
      const enrolled = identity.nodeId !== undefined;
      this.send({
        type: 'hello',
        name: this.opts.name,
        hostname: this.opts.hostname,
        address: this.opts.address,
        clientApiUrl: this.opts.clientApiUrl,
        version: this.opts.version,
        configVersion: this.current?.version ?? null,
        publicKey: identity.publicKey,
        nonce: msg.nonce,
        signature: identity.signHello(msg.nonce, this.opts.name),
        ...(enrolled ? { nodeId: identity.nodeId } : {}),
        ...(!enrolled && this.opts.enrollmentToken ? { enrollmentToken: this.opts.enrollmentToken } : {}),
        ...(!enrolled && this.opts.enrollmentKey ? { enrollmentKey: this.opts.enrollmentKey } : {}),
      });
    } else if (msg.type === 'welcome') {
      await this.identity!.enrolledAs(msg.nodeId);
      this.sessionToken = msg.session ?? null;
      this.connectedFlag = true;
      this.backoffMs = 500;
      this.send({ type: 'status', conferences: this.opts.liveStatus() });
      this.emit('connected', msg.nodeId);
    } else if (msg.type === 'config') {
      this.current = msg.snapshot;
      this.emit('config', msg.snapshot, 'management');
      this.send({ type: 'config_applied', version: msg.snapshot.version });
      await this.saveCache(msg.snapshot).catch((err: unknown) => this.opts.log.error({ err }, 'could not write configuration cache'));
    } else if (msg.type === 'lift_break_in_block') {
      this.emit('liftBreakInBlock', msg.kind, msg.key);
    } else if (
      msg.type === 'backplane_open' ||
      msg.type === 'backplane_transport' ||
      msg.type === 'backplane_streams' ||
      msg.type === 'backplane_control' ||
      msg.type === 'backplane_close'
    ) {
      this.emit('backplane', msg);
    } else if (msg.type === 'command') {
      this.emit('command', msg.requestId, msg.command);
    } else if (msg.type === 'platform_load') {
      this.emit('platformLoad', msg.nodes);
    } else if (msg.type === 'media_relay') {
      this.emit('mediaRelay', msg.fromNode, msg.message);
    } else if (msg.type === 'rejected') {
      this.opts.log.error({ reason: msg.reason, code: msg.code }, 'management server refused this node');
      this.emit('rejected', msg.reason, msg.code);
      if (msg.code && FINAL_REJECTIONS.includes(msg.code)) await this.decommission(msg.reason);
    }
  }

  /** Revoked or deleted: forget the credential and the configuration, stop reconnecting. */
  private async decommission(reason: string): Promise<void> {
    this.stop();
    this.decommissionedFlag = true;
    this.current = null;
    await this.identity?.discard();
    await rm(this.cacheFile, { force: true });
    this.emit('decommissioned', reason);
  }

  private async saveCache(snapshot: NodeConfigSnapshot): Promise<void> {
    const tmp = `${this.cacheFile}.tmp`;
    await writeFile(tmp, JSON.stringify(snapshot), { mode: 0o600 });
    await rename(tmp, this.cacheFile);
  }

  /** Sends an event if connected; a disconnected server gets the whole status after reconnecting. */
  send(msg: NodeToServer): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearInterval(this.heartbeatTimer);
    this.ws?.close(1001, 'node stopping');
  }
}
