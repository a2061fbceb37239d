import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { eq } from 'drizzle-orm';
import { conferencingNode } from '../../db/schema.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import { NODE_HEARTBEAT, nodeToServerSchema, type NodeRejectionCode, type NodeToServer, type ServerToNode } from '../../shared/node-protocol/messages.js';
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { readEnrollmentKey } from './enrollmentKey.js';
import { touchNode } from './node.service.js';
import { authenticateNode, helloSignatureValid, revokeNodeCredential } from './nodeIdentity.service.js';
import { NodeConfigBuilder } from './nodeConfig.service.js';
import type { NodeRegistryCluster } from './cluster/ManagementCluster.js';

/** Pexip's replication interval: nodes check in with the management node about every 60 s. */
export const CHECK_IN_MS = 60_000;

interface Connection {
  ws: WebSocket;
  nodeId: number;
  name: string;
  location: string;
  lastConfigVersion: string | null;
  /** Authenticates the node's HTTP requests (theme downloads) while this connection lasts. */
  session: string;
  /** When anything (a frame, a pong) last came from the node. */
  lastHeard: number;
  /** The key it proved (base64 SPKI). */
  publicKey: string;
  /** Closed for silence: its conferences are kept, marked stale, until it returns. */
  silent?: boolean;
}

export interface NodeRegistryOptions {
  /** Ping interval and silence limit; default NODE_HEARTBEAT (a silent node is unreachable within 15 s). */
  heartbeat?: { intervalMs: number; timeoutMs: number };
  /** How long a second claimant waits for the connected holder of an identity to answer a ping; default 2 s. */
  duplicateProbeMs?: number;
  /** How long a silent node's conferences stay listed as stale before they are dropped; default 5 minutes. */
  staleForgetMs?: number;
  /** The guide's replication interval: each live node's configuration is checked and its "last contacted" refreshed; default 60 s. */
  checkInMs?: number;
  /** Drives heartbeats, silence, the hello deadline and stale conferences; default the system clock (tests move a ManualClock). */
  clock?: Clock;
}

/** Live-status events name their node: it is always the authenticated one, whatever the node wrote. */
function boundTo(msg: NodeToServer, name: string): NodeToServer {
  switch (msg.type) {
    case 'status':
      return { ...msg, conferences: msg.conferences.map((c) => ({ ...c, participants: c.participants.map((p) => ({ ...p, node: name })) })) };
    case 'conference_started':
      return { ...msg, conference: { ...msg.conference, participants: msg.conference.participants.map((p) => ({ ...p, node: name })) } };
    case 'participant_joined':
    case 'participant_updated':
      return { ...msg, participant: { ...msg.participant, node: name } };
    case 'participant_left':
      return msg.participant ? { ...msg, participant: { ...msg.participant, node: name } } : msg;
    default:
      return msg;
  }
}

/**
 * The management side of node ↔ server: accepts node agents' WebSockets, enrolls them with the
 * enrollment key, pushes configuration snapshots (at once on connect, and on every change), and
 * feeds their conference events into LiveStatus.
 */
export class NodeRegistry {
  private readonly connections = new Map<number, Connection>();
  private pushTimer: NodeJS.Timeout | null = null;
  private readonly heartbeatTimer: ClockTimer;
  private readonly checkInTimer: ClockTimer;
  private readonly clock: Clock;
  private lastBeat: number;
  /** Silent nodes' stale conferences, dropped when this fires unless the node came back. */
  private readonly staleTimers = new Map<number, ClockTimer>();
  private readonly builder: NodeConfigBuilder;
  /** Pushes run one after another, so an older snapshot never overtakes a newer one. */
  private pushChain: Promise<void> = Promise.resolve();
  /** The re-read of the enrollment key after the latest restore. */
  private keyRead: Promise<void> = Promise.resolve();

  /** Others that read what nodes report (the history); each runs before live status takes the message. */
  private readonly readers: ((node: { id: number; name: string; location: string }, msg: NodeToServer) => void)[] = [];
  private readonly remoteReaders: ((node: { id: number; name: string; location: string }, msg: NodeToServer) => void)[] = [];

  /** Listeners for nodes lost (silent past the limit, or cut off without a close) and connected again (the connectivity alarm). */
  private readonly presence: ((node: { id: number; name: string; location: string }, state: 'lost' | 'connected') => void)[] = [];
  /** Listeners for every configuration version sent to a node (the configuration sync alarm). */
  private readonly pushes: ((node: { id: number; name: string }, version: string) => void)[] = [];
  private closing = false;

  /** Adds a listener for nodes lost and connected again. */
  onNodePresence(listener: (node: { id: number; name: string; location: string }, state: 'lost' | 'connected') => void): void {
    this.presence.push(listener);
  }

  /** Adds a listener for configuration versions sent to nodes. */
  onConfigPushed(listener: (node: { id: number; name: string }, version: string) => void): void {
    this.pushes.push(listener);
  }

  /** Adds a reader of every message an admitted node sends, bound to that node. */
  onNodeMessage(reader: (node: { id: number; name: string; location: string }, msg: NodeToServer) => void): void {
    this.readers.push(reader);
  }

  /**
   * Adds a reader of what nodes linked to the other management servers of a cluster report (relayed
   * to this server). Not for what one server alone must do (history), only for what needs every node.
   */
  onRemoteNodeMessage(reader: (node: { id: number; name: string; location: string }, msg: NodeToServer) => void): void {
    this.remoteReaders.push(reader);
  }

  /** Readers of the commands other management servers of the cluster send to nodes. */
  private readonly remoteCommandReaders: ((nodeIds: readonly number[], msg: ServerToNode) => void)[] = [];

  /** Adds a reader of the commands the other management servers of a cluster send to nodes (all of them, wherever the nodes are linked). */
  onRemoteCommand(reader: (nodeIds: readonly number[], msg: ServerToNode) => void): void {
    this.remoteCommandReaders.push(reader);
  }

  /** Commands another server sent to nodes: the ones linked here get them, and the readers see them all. */
  remoteCommand(nodeIds: readonly number[], msg: ServerToNode): void {
    this.commandHere(nodeIds, msg);
    for (const read of this.remoteCommandReaders) read(nodeIds, msg);
  }

  /** A message of a node linked to another management server, relayed by the cluster. */
  remoteNodeMessage(node: { id: number; name: string; location: string }, msg: NodeToServer): void {
    for (const read of this.remoteReaders) read(node, msg);
  }

  /** Resolves once the enrollment key a restore brought is in use (so callers wait on the fact, not a clock). */
  enrollmentKeyRead(): Promise<void> {
    return this.keyRead;
  }

  constructor(
    private readonly dom: Domain,
    private readonly status: LiveStatus,
    private enrollmentKey: string,
    private readonly log: Logger,
    private readonly opts: NodeRegistryOptions = {},
  ) {
    this.builder = new NodeConfigBuilder(dom);
    this.clock = opts.clock ?? systemClock;
    this.lastBeat = this.clock.now();
    this.heartbeatTimer = this.clock.setInterval(() => this.heartbeat(), (opts.heartbeat ?? NODE_HEARTBEAT).intervalMs);
    this.heartbeatTimer.unref();
    this.checkInTimer = this.clock.setInterval(() => void this.checkIn(), opts.checkInMs ?? CHECK_IN_MS);
    this.checkInTimer.unref();
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
      // A real timer, not the clock: coalescing is no behaviour to wait for, and pushes must not wait on a test's clock.
      this.pushTimer = setTimeout(() => {
        this.pushTimer = null;
        void this.pushAll();
      }, 50);
    });
  }

  /** The management server's HTTPS (port, certificate fingerprint) when on: what enrollment downloads give new nodes. */
  managementTls: () => { port: number; fingerprint: string } | null = () => null;

  /** The other management servers on the same Postgres and the nodes connected to them; none alone (server/platform/cluster). */
  cluster: NodeRegistryCluster | null = null;

  /** Connected to this server or, in a cluster, to another management server. */
  isLive = (nodeId: number): boolean => this.connections.has(nodeId) || (this.cluster?.isRemoteLive(nodeId) ?? false);

  /** Connected to this server itself. */
  isConnectedHere(nodeId: number): boolean {
    return this.connections.has(nodeId);
  }

  /** Nodes whose link here went silent and whose conferences are still listed as stale. */
  staleNodeIds(): number[] {
    return [...this.staleTimers.keys()];
  }

  /**
   * The node reports through another management server now. A node keeps one link, so a connection
   * still held here is dead (a network cut it has not noticed yet): it is closed without marking the
   * node lost or its conferences stale, and a stale listing is not dropped later over the live one.
   */
  movedElsewhere(nodeId: number): void {
    const stale = this.staleTimers.get(nodeId);
    this.clock.clearTimeout(stale);
    this.staleTimers.delete(nodeId);
    const conn = this.connections.get(nodeId);
    if (!conn) return;
    this.connections.delete(nodeId);
    this.log.warn({ node: conn.name }, 'conferencing node now linked to another management server; its connection here is closed');
    conn.ws.terminate();
  }

  /** A node's answer to a command that this server sent through another management server (CommandDispatcher waits for it). */
  acceptRelayed(node: { id: number; name: string; location: string }, msg: NodeToServer): void {
    if (msg.type === 'command_result') for (const read of this.readers) read(node, msg);
  }

  /** The node id a live connection's session token belongs to, if any. */
  sessionNode = (token: string): number | null => {
    for (const c of this.connections.values()) if (c.session === token) return c.nodeId;
    return null;
  };

  /** Pings every node; one silent for longer than the limit is cut and shown unreachable, its conferences stale. */
  private heartbeat(): void {
    const { intervalMs, timeoutMs } = this.opts.heartbeat ?? NODE_HEARTBEAT;
    const now = this.clock.now();
    // This check itself ran late: our own event loop stalled (a long import, a paused process), and
    // the nodes' pongs may be waiting unread behind this timer. Ping, and judge next time.
    const stalled = now - this.lastBeat > intervalMs * 2;
    this.lastBeat = now;
    for (const conn of this.connections.values()) {
      if (!stalled && now - conn.lastHeard > timeoutMs) {
        this.log.warn({ node: conn.name, silentMs: now - conn.lastHeard }, 'conferencing node silent; marked unreachable');
        conn.silent = true;
        conn.ws.terminate();
      } else if (conn.ws.readyState === WebSocket.OPEN) {
        conn.ws.ping();
      }
    }
  }

  /** Does the connection holding an identity still answer? A ping, and a short wait for anything back. */
  private answers(conn: Connection): Promise<boolean> {
    if (conn.ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    const since = this.clock.now();
    conn.ws.ping();
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        this.clock.clearTimeout(timer);
        conn.ws.off('pong', onPong);
        resolve(v);
      };
      const onPong = () => done(true);
      const timer = this.clock.setTimeout(() => done(conn.lastHeard > since), this.opts.duplicateProbeMs ?? 2_000);
      conn.ws.on('pong', onPong);
    });
  }

  private refuse(ws: WebSocket, code: NodeRejectionCode, reason: string): void {
    this.send(ws, { type: 'rejected', reason, code });
    ws.close(4003, 'enrollment refused');
  }

  /** A node whose hello proved its key: is it who it says, and is the identity free? Then welcome it. */
  private async admit(ws: WebSocket, hello: Extract<NodeToServer, { type: 'hello' }>, remote: string): Promise<Connection | null> {
    const auth = await authenticateNode(this.dom, hello, { remoteAddress: remote, platformKey: this.enrollmentKey });
    if (!auth.ok) {
      this.log.warn({ remote, node: hello.name, code: auth.code }, `node refused: ${auth.reason}`);
      this.refuse(ws, auth.code, auth.reason);
      return null;
    }
    const holder = this.connections.get(auth.id);
    if (holder && holder.publicKey !== hello.publicKey) {
      // Enrolled again with a new token (a replacement machine): the old key is no longer this node's.
      this.log.warn({ remote, node: hello.name }, 'node enrolled again with another identity; the previous one is disconnected');
      this.refuse(holder.ws, 'invalid_credentials', 'This conferencing node has been enrolled again with another identity');
    } else if (holder) {
      // A second process with this identity: refused while the first answers, else it takes over.
      if (await this.answers(holder)) {
        this.log.warn({ remote, node: hello.name }, 'node refused: another process is connected as this node');
        this.refuse(ws, 'duplicate', 'Another process is connected as this conferencing node');
        return null;
      }
      holder.silent = true;
      holder.ws.terminate();
    }
    if (ws.readyState !== WebSocket.OPEN) return null;
    const conn: Connection = {
      ws,
      nodeId: auth.id,
      name: hello.name,
      location: auth.location,
      lastConfigVersion: hello.configVersion,
      session: randomBytes(24).toString('base64url'),
      lastHeard: this.clock.now(),
      publicKey: hello.publicKey,
    };
    this.connections.set(auth.id, conn);
    const stale = this.staleTimers.get(auth.id);
    this.clock.clearTimeout(stale);
    this.staleTimers.delete(auth.id);
    this.send(ws, { type: 'welcome', nodeId: auth.id, session: conn.session });
    return conn;
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    let conn: Connection | null = null;
    const remote = req.socket.remoteAddress ?? '';
    const helloTimer = this.clock.setTimeout(() => ws.close(4001, 'hello expected'), 10_000);
    let lastTouch = 0;
    // Challenge-response: the hello must carry a signature over this connection's nonce.
    const nonce = randomBytes(24).toString('base64url');
    let helloSeen = false;
    this.send(ws, { type: 'challenge', nonce });
    ws.on('pong', () => {
      if (conn) conn.lastHeard = this.clock.now();
    });

    ws.on('message', (data) => {
      if (conn) conn.lastHeard = this.clock.now();
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
        if (helloSeen) return; // one hello per connection: its nonce is spent
        helloSeen = true;
        this.clock.clearTimeout(helloTimer);
        const hello = msg;
        if (!helloSignatureValid(hello, nonce)) {
          this.log.warn({ remote, node: hello.name }, "node refused: its hello does not answer this connection's challenge");
          return this.refuse(ws, 'invalid_credentials', 'Invalid node signature');
        }
        void this.admit(ws, hello, remote)
          .then(async (admitted) => {
            if (!admitted) return;
            conn = admitted;
            await this.pushTo([admitted]);
            this.log.info({ node: hello.name, id: admitted.nodeId, remote }, 'conferencing node connected');
            for (const l of this.presence) l({ id: admitted.nodeId, name: admitted.name, location: admitted.location }, 'connected');
          })
          .catch((err: unknown) => {
            this.log.error({ err }, 'node enrollment failed');
            ws.close(1011, 'enrollment failed');
          });
        return;
      }
      if (!conn) return;
      const bound = boundTo(msg, conn.name);
      for (const read of this.readers) read({ id: conn.nodeId, name: conn.name, location: conn.location }, bound);
      this.status.apply(conn.nodeId, bound);
      this.cluster?.nodeMessage({ id: conn.nodeId, name: conn.name, location: conn.location }, bound);
      if (this.clock.now() - lastTouch > 10_000) {
        lastTouch = this.clock.now();
        void touchNode(this.dom, conn.nodeId).catch(() => {});
      }
    });
    ws.on('close', (code) => {
      this.clock.clearTimeout(helloTimer);
      if (conn && this.connections.get(conn.nodeId) === conn) {
        this.connections.delete(conn.nodeId);
        // Silent, or gone without a close (1006: the process died, the network broke); a node that says goodbye is not lost.
        if (!this.closing && (conn.silent || code === 1006)) {
          for (const l of this.presence) l({ id: conn.nodeId, name: conn.name, location: conn.location }, 'lost');
        }
        if (conn.silent) {
          // Frozen or cut off: what it hosted may still be running; shown stale until it reports again.
          const nodeId = conn.nodeId;
          this.status.markStale(nodeId);
          const timer = this.clock.setTimeout(() => {
            this.staleTimers.delete(nodeId);
            this.status.dropNode(nodeId);
          }, this.opts.staleForgetMs ?? 300_000);
          timer.unref();
          this.staleTimers.set(nodeId, timer);
        } else {
          this.status.dropNode(conn.nodeId);
        }
        this.cluster?.nodeDown(conn.nodeId, conn.silent ?? false);
        this.log.info({ node: conn.name, silent: conn.silent ?? false }, 'conferencing node disconnected');
      }
    });
    ws.on('error', () => {});
  }

  /** An administrator revokes a node: its credential is refused from now on and a connected node is told to stop serving. */
  async revoke(nodeId: number, dom: Domain = this.dom): Promise<void> {
    await revokeNodeCredential(dom, nodeId);
    const conn = this.connections.get(nodeId);
    const reason = "This conferencing node's credential has been revoked";
    if (conn) this.refuse(conn.ws, 'revoked', reason);
    else this.cluster?.toNodes([nodeId], { type: 'rejected', reason, code: 'revoked' });
  }

  /** The connected nodes' names by id (for status lists). */
  nodeNames(): Map<number, string> {
    return new Map(this.liveNodes().map((n) => [n.id, n.name]));
  }

  /** The connected nodes with their system location (for status by location). */
  liveNodes(): { id: number; name: string; location: string }[] {
    const here = [...this.connections.values()].map((c) => ({ id: c.nodeId, name: c.name, location: c.location }));
    const elsewhere = (this.cluster?.remoteNodes() ?? []).filter((n) => !this.connections.has(n.id));
    return [...here, ...elsewhere];
  }

  /** Sends a command to the given connected nodes (through another management server for nodes connected there); returns how many it reached. */
  command(nodeIds: readonly number[], msg: ServerToNode): number {
    const sent = this.commandHere(nodeIds, msg);
    const elsewhere = nodeIds.filter((id) => !this.connections.has(id) && this.cluster?.isRemoteLive(id));
    if (elsewhere.length > 0) this.cluster?.toNodes(elsewhere, msg);
    return sent + elsewhere.length;
  }

  /** Sends to the given nodes connected to this server only; returns how many it reached. */
  commandHere(nodeIds: readonly number[], msg: ServerToNode): number {
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
      if (!snapshot) {
        // Deleted from the configuration while connected: it stops serving.
        const [still] = await this.dom.db.select({ id: conferencingNode.id }).from(conferencingNode).where(eq(conferencingNode.id, conn.nodeId));
        if (!still) this.refuse(conn.ws, 'deleted', 'This conferencing node has been deleted from the platform');
        continue;
      }
      if (snapshot.version === conn.lastConfigVersion) continue;
      conn.lastConfigVersion = snapshot.version;
      conn.location = snapshot.node.systemLocation;
      this.send(conn.ws, { type: 'config', snapshot });
      for (const l of this.pushes) l({ id: conn.nodeId, name: conn.name }, snapshot.version);
      // Only the version: the snapshot carries TURN passwords and PINs, which are never logged.
      this.log.debug({ node: conn.name, version: snapshot.version }, 'configuration pushed');
    }
  }

  /**
   * The periodic check-in: a node whose push was missed (a change written by another management
   * server, a push lost on a dying connection) gets its configuration within one interval, and a
   * node heard from in that interval is "last contacted" now, even when it has nothing to report.
   */
  private async checkIn(): Promise<void> {
    const heard = this.clock.now() - (this.opts.checkInMs ?? CHECK_IN_MS);
    for (const conn of this.connections.values()) {
      if (!conn.silent && conn.lastHeard >= heard) await touchNode(this.dom, conn.nodeId).catch(() => {});
    }
    await this.pushAll();
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
    this.closing = true;
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.clock.clearInterval(this.heartbeatTimer);
    this.clock.clearInterval(this.checkInTimer);
    for (const t of this.staleTimers.values()) this.clock.clearTimeout(t);
    for (const c of this.connections.values()) c.ws.close(1001, 'management server stopping');
  }
}
