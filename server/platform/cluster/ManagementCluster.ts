import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { LiveConference, NodeToServer, ServerToNode } from '../../../shared/node-protocol/messages.js';
import type { AlarmManager } from '../../alarms/AlarmManager.js';
import type { LiveStatus, LiveNode } from '../../status/LiveStatus.js';
import type { ConfigBus } from '../ConfigBus.js';
import type { NodeRegistry } from '../NodeRegistry.js';
import { ClusterChannel } from './ClusterChannel.js';
import type { ClusterMessage } from './clusterMessages.js';

/** What the node registry asks of the cluster (kept narrow so the registry works alone too). */
export interface NodeRegistryCluster {
  /** Nodes connected to the other management servers. */
  remoteNodes(): LiveNode[];
  isRemoteLive(nodeId: number): boolean;
  /** Hands a message for nodes connected elsewhere to the servers holding their links. */
  toNodes(nodeIds: number[], msg: ServerToNode): void;
  /** Something a node connected here reported. */
  nodeMessage(node: LiveNode, msg: NodeToServer): void;
  /** A node's link here ended. */
  nodeDown(nodeId: number, silent: boolean): void;
  /** Where nodes reach the other management servers (as each says), for node bundles. */
  peerUrls(): string[];
}

export interface ManagementClusterOptions {
  /** How often each server tells the others which nodes it holds; default 2 s. */
  heartbeatMs?: number;
  /** A server silent this long is taken for gone and its nodes dropped from live status; default 10 s. */
  peerTimeoutMs?: number;
}

/** What live status needs from nodes connected elsewhere; command results go to the server waiting for them. */
const RELAYED = new Set<NodeToServer['type']>([
  'status',
  'conference_started',
  'conference_ended',
  'participant_joined',
  'participant_left',
  'participant_updated',
  'conference_updated',
  'conference_media_hosted',
  'active_speaker',
  'node_load',
  'media_statistics',
  'registrations',
  'break_in_blocks',
  'command_result',
  // A backplane between nodes linked to different servers: the server brokering it relays the set-up.
  'backplane_transport',
  'backplane_streams',
  'backplane_control',
  'backplane_closed',
  'backplane_statistics',
]);
/** The latest of these per node is replayed to a server that joins (with the node's conferences as one `status`). */
const LATEST_KEPT = new Set<NodeToServer['type']>(['node_load', 'media_statistics', 'registrations', 'break_in_blocks']);

interface Peer {
  lastHeard: number;
  nodes: Map<number, LiveNode>;
  url?: string;
}

/**
 * Several management servers on one Postgres (`DATABASE_URL`): nodes connect to any of them, and
 * each server tells the others, over Postgres LISTEN/NOTIFY, what they need to act as one —
 * configuration changes (so every server pushes to its own nodes at once), what its nodes report
 * (so live status is the same everywhere), its alarms changing, and commands for nodes whose link
 * is elsewhere. Heartbeats say which nodes each server holds; a server that stops answering takes
 * its nodes off the others' live status until they reconnect somewhere.
 */
export class ManagementCluster implements NodeRegistryCluster {
  readonly serverId = randomUUID();
  private readonly channel: ClusterChannel;
  private readonly peers = new Map<string, Peer>();
  /** Each remote node's server (the one holding its link). */
  private readonly owner = new Map<number, string>();
  private readonly latest = new Map<number, Map<string, NodeToServer>>();
  private timer: NodeJS.Timeout | null = null;
  /** Where nodes reach this server, told to the others in heartbeats; null: not known (listening on every address). */
  advertisedUrl: string | null = null;
  /** Set while an event from another server is re-emitted here, so it is not sent back. */
  private relaying = false;
  private readonly onAlarmsChanged = () => {
    if (!this.relaying) this.send({ kind: 'alarms_changed' });
  };

  private constructor(
    url: string,
    private readonly bus: ConfigBus,
    private readonly registry: NodeRegistry,
    private readonly status: LiveStatus,
    private readonly alarms: AlarmManager,
    private readonly log: Logger,
    private readonly opts: ManagementClusterOptions,
  ) {
    this.channel = new ClusterChannel(url, this.serverId, log);
  }

  /** Joins the other servers on this database: from now on they and this one act as one. */
  static async start(
    url: string,
    parts: { bus: ConfigBus; registry: NodeRegistry; status: LiveStatus; alarms: AlarmManager; log: Logger },
    opts: ManagementClusterOptions = {},
  ): Promise<ManagementCluster> {
    const c = new ManagementCluster(url, parts.bus, parts.registry, parts.status, parts.alarms, parts.log, opts);
    await c.channel.start();
    c.channel.on('message', (msg, from) => c.receive(msg, from));
    c.channel.on('reconnected', () => c.send({ kind: 'hello' }));
    parts.bus.relay = (change) => c.send(change.kind === 'changed' ? { kind: 'config_changed', what: change.what } : { kind: 'accounts_changed' });
    parts.alarms.on('changed', c.onAlarmsChanged);
    parts.registry.cluster = c;
    c.timer = setInterval(() => c.beat(), opts.heartbeatMs ?? 2_000);
    c.timer.unref();
    c.send({ kind: 'hello' });
    c.beat();
    return c;
  }

  private send(msg: ClusterMessage): void {
    void this.channel.publish(msg);
  }

  /** Tells the others which nodes this server holds, and forgets servers that have gone quiet. */
  private beat(): void {
    const here = this.registry.liveNodes().filter((n) => this.registry.isConnectedHere(n.id));
    this.send({ kind: 'heartbeat', nodes: here, stale: this.registry.staleNodeIds(), ...(this.advertisedUrl ? { url: this.advertisedUrl } : {}) });
    const now = Date.now();
    for (const [id, peer] of this.peers) {
      if (now - peer.lastHeard <= (this.opts.peerTimeoutMs ?? 10_000)) continue;
      this.log.warn({ server: id }, 'management server silent; its nodes are no longer shown live here');
      this.forgetPeer(id);
    }
  }

  peerUrls(): string[] {
    return [...this.peers.values()].flatMap((p) => (p.url ? [p.url] : [])).sort();
  }

  private forgetPeer(id: string): void {
    this.peers.delete(id);
    for (const [nodeId, by] of this.owner) if (by === id) this.dropRemote(nodeId);
  }

  private dropRemote(nodeId: number): void {
    this.owner.delete(nodeId);
    if (!this.registry.isConnectedHere(nodeId)) this.status.dropNode(nodeId);
  }

  private peer(id: string): Peer {
    let p = this.peers.get(id);
    if (!p) {
      p = { lastHeard: Date.now(), nodes: new Map() };
      this.peers.set(id, p);
      this.log.info({ server: id }, 'another management server on this database');
    }
    p.lastHeard = Date.now();
    return p;
  }

  /**
   * Takes a remote node as held by `from`. A node linked here too is kept here, unless `takeOver`:
   * its resync (`status`) through the other server says it connected there after leaving here.
   */
  private adopt(from: string, node: LiveNode, takeOver = false): boolean {
    if (this.registry.isConnectedHere(node.id) && !takeOver) return false;
    this.registry.movedElsewhere(node.id);
    this.owner.set(node.id, from);
    this.peer(from).nodes.set(node.id, node);
    return true;
  }

  private receive(msg: ClusterMessage, from: string): void {
    switch (msg.kind) {
      case 'hello':
        this.peer(from);
        this.beat();
        this.replayState();
        return;
      case 'heartbeat': {
        const p = this.peer(from);
        p.url = msg.url;
        const listed = new Set([...msg.nodes.map((n) => n.id), ...msg.stale]);
        for (const n of msg.nodes) this.adopt(from, n);
        for (const [nodeId] of p.nodes) {
          if (listed.has(nodeId)) continue;
          p.nodes.delete(nodeId);
          if (this.owner.get(nodeId) === from) this.dropRemote(nodeId);
        }
        return;
      }
      case 'goodbye':
        this.forgetPeer(from);
        return;
      case 'config_changed':
        this.bus.received({ kind: 'changed', what: msg.what });
        return;
      case 'accounts_changed':
        this.bus.received({ kind: 'accountsChanged' });
        return;
      case 'alarms_changed':
        this.relaying = true;
        try {
          this.alarms.emit('changed');
        } finally {
          this.relaying = false;
        }
        return;
      case 'node_message':
        if (!this.adopt(from, msg.node, msg.msg.type === 'status' && !msg.replay)) return;
        if (msg.msg.type === 'command_result') return this.registry.acceptRelayed(msg.node, msg.msg);
        this.status.apply(msg.node.id, msg.msg);
        this.registry.remoteNodeMessage(msg.node, msg.msg);
        return;
      case 'node_down': {
        if (this.owner.get(msg.nodeId) !== from) return;
        if (msg.silent) {
          // Listed stale as on its server, until that server drops it (its heartbeat stops listing it).
          this.peers.get(from)?.nodes.delete(msg.nodeId);
          this.status.markStale(msg.nodeId);
        } else {
          this.peers.get(from)?.nodes.delete(msg.nodeId);
          this.dropRemote(msg.nodeId);
        }
        return;
      }
      case 'to_nodes':
        this.registry.remoteCommand(msg.nodeIds, msg.msg);
        return;
    }
  }

  /** A server joined: everything this server's nodes have reported that is still current. */
  private replayState(): void {
    const byNode = new Map<number, LiveConference[]>();
    for (const s of this.status.shards()) {
      if (!this.registry.isConnectedHere(s.nodeId)) continue;
      const list = byNode.get(s.nodeId) ?? [];
      list.push(s.conference);
      byNode.set(s.nodeId, list);
    }
    for (const node of this.registry.liveNodes()) {
      if (!this.registry.isConnectedHere(node.id)) continue;
      this.send({ kind: 'node_message', node, msg: { type: 'status', conferences: byNode.get(node.id) ?? [] }, replay: true });
      for (const m of this.latest.get(node.id)?.values() ?? []) this.send({ kind: 'node_message', node, msg: m, replay: true });
    }
  }

  remoteNodes(): LiveNode[] {
    const out: LiveNode[] = [];
    for (const [nodeId, by] of this.owner) {
      const n = this.peers.get(by)?.nodes.get(nodeId);
      if (n) out.push(n);
    }
    return out;
  }

  isRemoteLive(nodeId: number): boolean {
    const by = this.owner.get(nodeId);
    return by !== undefined && (this.peers.get(by)?.nodes.has(nodeId) ?? false);
  }

  toNodes(nodeIds: number[], msg: ServerToNode): void {
    this.send({ kind: 'to_nodes', nodeIds, msg });
  }

  nodeMessage(node: LiveNode, msg: NodeToServer): void {
    if (!RELAYED.has(msg.type)) return;
    this.owner.delete(node.id);
    if (LATEST_KEPT.has(msg.type)) {
      const kept = this.latest.get(node.id) ?? new Map<string, NodeToServer>();
      kept.set(msg.type, msg);
      this.latest.set(node.id, kept);
    }
    this.send({ kind: 'node_message', node, msg });
  }

  nodeDown(nodeId: number, silent: boolean): void {
    this.latest.delete(nodeId);
    this.send({ kind: 'node_down', nodeId, silent });
  }

  /** Leaves the cluster: the others drop this server's nodes at once rather than after the timeout. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.alarms.off('changed', this.onAlarmsChanged);
    this.bus.relay = null;
    if (this.registry.cluster === this) this.registry.cluster = null;
    await this.channel.publish({ kind: 'goodbye' });
    await this.channel.close();
  }
}
