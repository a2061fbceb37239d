import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { nodeToServerSchema, type ServerToNode } from '../../shared/node-protocol/messages.js';
import { secretEquals } from '../../shared/security/secretEquals.js';
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { readEnrollmentKey } from './enrollmentKey.js';
import { enrollNode, touchNode } from './node.service.js';
import { NodeConfigBuilder } from './nodeConfig.service.js';

interface Connection {
  ws: WebSocket;
  nodeId: number;
  name: string;
  location: string;
  lastConfigVersion: string | null;
}


/**
 * The management side of node ↔ server: accepts node agents' WebSockets, enrolls them with the
 * enrollment key, pushes configuration snapshots (at once on connect, and on every change), and
 * feeds their conference events into LiveStatus.
 */
export class NodeRegistry {
  private readonly connections = new Map<number, Connection>();
  private pushTimer: NodeJS.Timeout | null = null;
  private readonly builder: NodeConfigBuilder;
  /** Pushes run one after another, so an older snapshot never overtakes a newer one. */
  private pushChain: Promise<void> = Promise.resolve();
  /** The re-read of the enrollment key after the latest restore. */
  private keyRead: Promise<void> = Promise.resolve();

  /** Resolves once the enrollment key a restore brought is in use (so callers wait on the fact, not a clock). */
  enrollmentKeyRead(): Promise<void> {
    return this.keyRead;
  }

  constructor(
    private readonly dom: Domain,
    private readonly status: LiveStatus,
    private enrollmentKey: string,
    private readonly log: Logger,
  ) {
    this.builder = new NodeConfigBuilder(dom);
    // Coalesce bursts of changes (e.g. an import) into one push, still well within a second.
    dom.bus.on('changed', (what) => {
      // A restored backup may carry another enrollment key: nodes must present that one from now on.
      if (what === 'restore') {
        this.keyRead = readEnrollmentKey(dom.db)
          .then((key) => {
            if (key) this.enrollmentKey = key;
          })
          .catch((err: unknown) => this.log.error({ err }, 'could not re-read the enrollment key after a restore'));
      }
      if (this.pushTimer) return;
      this.pushTimer = setTimeout(() => {
        this.pushTimer = null;
        void this.pushAll();
      }, 50);
    });
  }

  isLive = (nodeId: number): boolean => this.connections.has(nodeId);

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    let conn: Connection | null = null;
    const remote = req.socket.remoteAddress ?? '';
    const helloTimer = setTimeout(() => ws.close(4001, 'hello expected'), 10_000);
    let lastTouch = 0;

    ws.on('message', (data) => {
      let msg;
      try {
        const parsed = nodeToServerSchema.safeParse(JSON.parse(String(data)));
        if (!parsed.success) {
          this.log.warn({ remote, issues: parsed.error.issues.slice(0, 3) }, 'invalid message from node');
          return;
        }
        msg = parsed.data;
      } catch {
        this.log.warn({ remote }, 'non-JSON message from node');
        return;
      }
      if (msg.type === 'hello') {
        clearTimeout(helloTimer);
        if (!secretEquals(msg.enrollmentKey, this.enrollmentKey)) {
          this.send(ws, { type: 'rejected', reason: 'Invalid enrollment key' });
          ws.close(4003, 'enrollment refused');
          this.log.warn({ remote, node: msg.name }, 'node enrollment refused');
          return;
        }
        void (async () => {
          const { id, location } = await enrollNode(this.dom, msg);
          this.connections.get(id)?.ws.close(4000, 'replaced by a new connection');
          conn = { ws, nodeId: id, name: msg.name, location, lastConfigVersion: msg.configVersion };
          this.connections.set(id, conn);
          this.send(ws, { type: 'welcome', nodeId: id });
          await this.pushTo([conn]);
          this.log.info({ node: msg.name, id, remote }, 'conferencing node connected');
        })().catch((err) => {
          this.log.error({ err }, 'node enrollment failed');
          ws.close(1011, 'enrollment failed');
        });
        return;
      }
      if (!conn) return;
      this.status.apply(conn.nodeId, msg);
      if (Date.now() - lastTouch > 10_000) {
        lastTouch = Date.now();
        void touchNode(this.dom, conn.nodeId).catch(() => {});
      }
    });
    ws.on('close', () => {
      clearTimeout(helloTimer);
      if (conn && this.connections.get(conn.nodeId) === conn) {
        this.connections.delete(conn.nodeId);
        this.status.dropNode(conn.nodeId);
        void touchNode(this.dom, conn.nodeId).catch(() => {});
        this.log.info({ node: conn.name }, 'conferencing node disconnected');
      }
    });
    ws.on('error', () => {});
  }

  /** The connected nodes' names by id (for status lists). */
  nodeNames(): Map<number, string> {
    return new Map([...this.connections.values()].map((c) => [c.nodeId, c.name]));
  }

  /** Sends a command to the given connected nodes; returns how many it reached. */
  command(nodeIds: readonly number[], msg: ServerToNode): number {
    let sent = 0;
    for (const id of nodeIds) {
      const conn = this.connections.get(id);
      if (conn?.ws.readyState === WebSocket.OPEN) {
        this.send(conn.ws, msg);
        sent++;
      }
    }
    return sent;
  }

  private send(ws: WebSocket, msg: ServerToNode): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  /**
   * Sends each given connection its snapshot when its version differs from what the node holds.
   * Shared parts are built once and locations once each, however many nodes there are.
   */
  private pushTo(conns: Connection[]): Promise<void> {
    const run = this.pushChain.then(() => this.buildAndSend(conns));
    this.pushChain = run.catch(() => {});
    return run;
  }

  private async buildAndSend(conns: Connection[]): Promise<void> {
    if (conns.length === 0) return;
    const snapshots = await this.builder.build(conns.map((c) => c.nodeId));
    for (const conn of conns) {
      if (this.connections.get(conn.nodeId) !== conn) continue; // closed or replaced meanwhile
      const snapshot = snapshots.get(conn.nodeId);
      // A node deleted from the configuration while connected gets nothing new.
      if (!snapshot || snapshot.version === conn.lastConfigVersion) continue;
      conn.lastConfigVersion = snapshot.version;
      conn.location = snapshot.node.systemLocation;
      this.send(conn.ws, { type: 'config', snapshot });
      // Only the version: the snapshot carries TURN passwords and PINs, which are never logged.
      this.log.debug({ node: conn.name, version: snapshot.version }, 'configuration pushed');
    }
  }

  async pushAll(): Promise<void> {
    if (this.connections.size === 0) return;
    try {
      await this.pushTo([...this.connections.values()]);
    } catch (err) {
      this.log.error({ err }, 'configuration push failed');
    }
  }

  close(): void {
    if (this.pushTimer) clearTimeout(this.pushTimer);
    for (const c of this.connections.values()) c.ws.close(1001, 'management server stopping');
  }
}
