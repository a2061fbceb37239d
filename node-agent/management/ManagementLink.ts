import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  NODE_WS_PATH,
  nodeConfigSnapshotSchema,
  serverToNodeSchema,
  type LiveConference,
  type NodeConfigSnapshot,
  type NodeToServer,
} from '../../shared/node-protocol/messages.js';

export interface ManagementLinkOptions {
  /** e.g. http://127.0.0.1:8080 */
  managementUrl: string;
  enrollmentKey: string;
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
  rejected: [reason: string];
  /** An administrator lifted a break-in block. */
  liftBreakInBlock: [kind: 'service' | 'address', key: string];
}

/** The node agent's outbound WebSocket to the management server, with reconnection and a config cache. */
export class ManagementLink extends EventEmitter<ManagementLinkEvents> {
  private ws: WebSocket | null = null;
  private current: NodeConfigSnapshot | null = null;
  private backoffMs = 500;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private connectedFlag = false;

  constructor(private readonly opts: ManagementLinkOptions) {
    super();
  }

  get config(): NodeConfigSnapshot | null {
    return this.current;
  }

  get connected(): boolean {
    return this.connectedFlag;
  }

  private get cacheFile(): string {
    return join(this.opts.dataDir, 'config.json');
  }

  async start(): Promise<void> {
    await mkdir(this.opts.dataDir, { recursive: true });
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
    const url = this.opts.managementUrl.replace(/^http/, 'ws').replace(/\/$/, '') + NODE_WS_PATH;
    const ws = new WebSocket(url, { handshakeTimeout: 5_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.send({
        type: 'hello',
        name: this.opts.name,
        hostname: this.opts.hostname,
        address: this.opts.address,
        clientApiUrl: this.opts.clientApiUrl,
        enrollmentKey: this.opts.enrollmentKey,
        version: this.opts.version,
        configVersion: this.current?.version ?? null,
      });
    });
    ws.on('message', (data) => void this.onMessage(String(data)));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
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
    this.reconnectTimer = setTimeout(() => {
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
    if (msg.type === 'welcome') {
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
    } else if (msg.type === 'rejected') {
      this.opts.log.error({ reason: msg.reason }, 'management server refused this node');
      this.emit('rejected', msg.reason);
    }
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
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ws?.close(1001, 'node stopping');
  }
}
