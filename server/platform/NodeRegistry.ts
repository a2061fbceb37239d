import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import {
  nodeSettingsSchema,
  nodeToServerSchema,
  type NodeConfigSnapshot,
  type ServerToNode,
} from '../../shared/node-protocol/messages.js';
import { servicesForNodes } from '../conference/vmr.service.js';
import { routingRulesForNodes } from '../routing/routing.service.js';
import { eq } from 'drizzle-orm';
import { platformSetting } from '../../db/schema.js';

type SharedConfig = Pick<NodeConfigSnapshot, 'services' | 'routingRules'>;
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { enrollNode, touchNode } from './node.service.js';

interface Connection {
  ws: WebSocket;
  nodeId: number;
  name: string;
  location: string;
  lastConfigVersion: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * The management side of node ↔ server: accepts node agents' WebSockets, enrolls them with the
 * enrollment key, pushes configuration snapshots (at once on connect, and on every change), and
 * feeds their conference events into LiveStatus.
 */
export class NodeRegistry {
  private readonly connections = new Map<number, Connection>();
  private pushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dom: Domain,
    private readonly status: LiveStatus,
    private enrollmentKey: string,
    private readonly log: Logger,
  ) {
    // Coalesce bursts of changes (e.g. an import) into one push, still well within a second.
    dom.bus.on('changed', (what) => {
      // A restored backup may carry another enrollment key: nodes must present that one from now on.
      if (what === 'restore') {
        void dom.db
          .select()
          .from(platformSetting)
          .where(eq(platformSetting.key, 'node_enrollment_key'))
          .then(([row]) => {
            if (row) this.enrollmentKey = row.value;
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
        if (!timingSafeEqual(sha256(msg.enrollmentKey), sha256(this.enrollmentKey))) {
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
          await this.pushTo(conn);
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

  private send(ws: WebSocket, msg: ServerToNode): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  private async snapshotFor(conn: Connection, config: SharedConfig): Promise<NodeConfigSnapshot> {
    const node = { id: conn.nodeId, name: conn.name, systemLocation: conn.location, maintenanceMode: false };
    const { services, routingRules } = config;
    const version = createHash('sha256').update(JSON.stringify({ node, services, routingRules })).digest('hex').slice(0, 16);
    return { version, generatedAt: new Date().toISOString(), node, location: null, settings: nodeSettingsSchema.parse({}), services, routingRules, themes: [] };
  }

  private async sharedConfig(): Promise<SharedConfig> {
    return { services: await servicesForNodes(this.dom.db), routingRules: await routingRulesForNodes(this.dom.db) };
  }

  private async pushTo(conn: Connection, config?: SharedConfig): Promise<void> {
    const snapshot = await this.snapshotFor(conn, config ?? (await this.sharedConfig()));
    if (snapshot.version === conn.lastConfigVersion) return;
    conn.lastConfigVersion = snapshot.version;
    this.send(conn.ws, { type: 'config', snapshot });
  }

  async pushAll(): Promise<void> {
    if (this.connections.size === 0) return;
    try {
      const config = await this.sharedConfig();
      await Promise.all([...this.connections.values()].map((c) => this.pushTo(c, config)));
    } catch (err) {
      this.log.error({ err }, 'configuration push failed');
    }
  }

  close(): void {
    if (this.pushTimer) clearTimeout(this.pushTimer);
    for (const c of this.connections.values()) c.ws.close(1001, 'management server stopping');
  }
}
