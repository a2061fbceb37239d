import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BackplaneType, NodeToServer, ServerToNode } from '../../shared/node-protocol/messages.js';
import { toPexipMediaStream, type MediaStream } from '../../shared/node-protocol/mediaStatus.js';
import type { BackplaneLinkView } from '../../shared/status/backplaneView.js';

/** A node as the broker sees it. */
interface BrokerNode {
  id: number;
  name: string;
  location: string;
}

/** One conference instance on one node: the service's name and who is in it there. */
interface NodeConference {
  name: string;
  participants: Set<string>;
  /** Other nodes' participants whose media it handles: they need the backplanes as much as its own. */
  hosted: Set<string>;
}

/** Meetings span nodes; a Test Call Service call or a Virtual Reception is one caller's own. */
const SPANS_NODES = new Set(['conference', 'lecture']);

/** A backplane the broker opened: one per conference per node pair (`a` the lower node id). */
export interface BrokeredBackplane {
  id: string;
  /** The service's name. */
  conference: string;
  a: BrokerNode;
  b: BrokerNode;
  type: BackplaneType;
  /** When it was opened (ISO). */
  startTime: string;
  /** status/v1 ids of its two links (Pexip lists a backplane one way each: a→b, b→a). */
  linkIds: [string, string];
}

/**
 * What the broker needs of the node links: who is connected here, who is live anywhere in the
 * cluster, and a way to send nodes a frame (through another management server for nodes linked there).
 */
export interface BrokerLinks {
  isConnectedHere(nodeId: number): boolean;
  isLive(nodeId: number): boolean;
  command(nodeIds: readonly number[], msg: ServerToNode): number;
}

/** A backplane a node could not open is not tried again for the same pair before this. */
const RETRY_AFTER_MS = 5_000;

/**
 * Pairs nodes for backplanes (issue 14): from the conference events every node reports, it knows
 * which nodes hold participants of each conference; when two do, it tells both to open their end
 * of a backplane (`backplane_open`), relays each end's transport and stream offers to the other as
 * they are, and closes it (`backplane_close`) when either side has nobody left or goes away. At most
 * one per conference per node pair; `local` when both nodes are in one system location, else
 * `geographic`. Media never passes through here.
 *
 * With several management servers (a cluster), every broker hears every node (what nodes linked
 * elsewhere report is relayed, `accept` for both), and a pair is brokered by the server holding the
 * link of its lower-id node: one backplane, whichever servers the two nodes are linked to.
 */
export class BackplaneBroker extends EventEmitter<{ changed: []; closed: [BrokeredBackplane] }> {
  private readonly nodes = new Map<number, BrokerNode & { conferences: Map<string, NodeConference> }>();
  /** `${conference}\n${a}\n${b}` → backplane. */
  private readonly backplanes = new Map<string, BrokeredBackplane>();
  private readonly byId = new Map<string, string>();
  /** Each backplane end's latest media statistics: `${backplaneId}\n${nodeId}` → streams. */
  private readonly statistics = new Map<string, MediaStream[]>();
  /** Backplanes another management server of the cluster brokers (seen in its commands to nodes): listed alike everywhere. */
  private readonly elsewhere = new Map<string, BrokeredBackplane>();
  /** Pair keys whose backplane a node refused, and until when they are left alone. */
  private readonly refused = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly links: BrokerLinks,
    private readonly log: Logger,
    /** Pairs are re-checked this often as well (a node gone without a word, a refused pair's pause over). */
    recheckMs = 2_000,
  ) {
    super();
    this.timer = setInterval(() => this.reconcile(), recheckMs);
    this.timer.unref();
  }

  /** Every message an admitted node sends (NodeRegistry.onNodeMessage). */
  accept(node: BrokerNode, msg: NodeToServer): void {
    switch (msg.type) {
      case 'status': {
        const entry = this.nodeEntry(node);
        entry.conferences.clear();
        for (const c of msg.conferences)
          if (SPANS_NODES.has(c.serviceType))
            entry.conferences.set(c.id, { name: c.name, participants: new Set(c.participants.map((p) => p.id)), hosted: new Set(c.hostedMedia ?? []) });
        break;
      }
      case 'conference_started':
        if (!SPANS_NODES.has(msg.conference.serviceType)) return;
        this.nodeEntry(node).conferences.set(msg.conference.id, {
          name: msg.conference.name,
          participants: new Set(msg.conference.participants.map((p) => p.id)),
          hosted: new Set(msg.conference.hostedMedia ?? []),
        });
        break;
      case 'conference_ended':
        this.nodeEntry(node).conferences.delete(msg.conferenceId);
        break;
      case 'participant_joined':
        this.nodeEntry(node).conferences.get(msg.conferenceId)?.participants.add(msg.participant.id);
        break;
      case 'participant_left':
        this.nodeEntry(node).conferences.get(msg.conferenceId)?.participants.delete(msg.participantId);
        break;
      case 'conference_media_hosted': {
        const c = this.nodeEntry(node).conferences.get(msg.conferenceId);
        if (c) c.hosted = new Set(msg.participantIds);
        break;
      }
      case 'backplane_transport':
      case 'backplane_streams':
      case 'backplane_control':
        this.relay(node.id, msg);
        return;
      case 'backplane_statistics':
        if (this.find(msg.backplaneId)) this.statistics.set(`${msg.backplaneId}\n${node.id}`, msg.streams);
        return;
      case 'backplane_closed': {
        const key = this.byId.get(msg.backplaneId);
        const bp = key ? this.backplanes.get(key) : undefined;
        if (!key || !bp || (bp.a.id !== node.id && bp.b.id !== node.id)) return;
        this.log.warn({ backplane: bp.id, conference: bp.conference, node: node.name, reason: msg.reason }, 'a node could not open its end of a backplane');
        this.refused.set(key, Date.now() + RETRY_AFTER_MS);
        this.close(key);
        return;
      }
      default:
        return;
    }
    this.reconcile();
  }

  /** A node's link ended: what it hosted no longer pairs. */
  nodeGone(nodeId: number): void {
    this.nodes.delete(nodeId);
    this.reconcile();
  }

  /** The backplanes open now, those brokered by the cluster's other servers included. */
  list(): BrokeredBackplane[] {
    return [...this.backplanes.values(), ...this.elsewhere.values()];
  }

  /**
   * A command another server of the cluster sent to nodes (every server sees them all): a backplane it
   * opened or closed, so that this server's status lists the same backplanes, under the same ids.
   */
  observeCommand(nodeIds: readonly number[], msg: ServerToNode): void {
    if (msg.type === 'backplane_close') {
      this.forgetStatistics(msg.backplaneId);
      if (this.elsewhere.delete(msg.backplaneId)) this.emit('changed');
      return;
    }
    if (msg.type !== 'backplane_open' || this.byId.has(msg.backplaneId) || this.elsewhere.has(msg.backplaneId)) return;
    const self = this.nodes.get(nodeIds[0] ?? -1);
    if (!self) return;
    const ends: [BrokerNode, BrokerNode] = [
      { id: self.id, name: self.name, location: self.location },
      { id: msg.peer.nodeId, name: msg.peer.name, location: msg.peer.location },
    ];
    ends.sort((x, y) => x.id - y.id);
    this.elsewhere.set(msg.backplaneId, {
      id: msg.backplaneId,
      conference: msg.conference,
      a: ends[0],
      b: ends[1],
      type: msg.backplaneType,
      startTime: new Date().toISOString(),
      linkIds: linkIdsOf(msg.backplaneId),
    });
    this.emit('changed');
  }

  /** status/v1 `backplane`: each backplane as two links, one per sending node (the guide's Backplanes tab). */
  statusObjects(): { id: string; resource_uri: string; [field: string]: unknown }[] {
    return this.list().flatMap((bp) =>
      (
        [
          [bp.a, bp.b, bp.linkIds[0]],
          [bp.b, bp.a, bp.linkIds[1]],
        ] as const
      ).map(([from, to, id]) => ({
        id,
        conference: bp.conference,
        media_node: from.name,
        remote_media_node: to.name,
        remote_conference_name: bp.conference,
        system_location: from.location,
        type: bp.type,
        start_time: bp.startTime,
        resource_uri: `/api/admin/status/v1/backplane/${id}/`,
      })),
    );
  }

  /**
   * status/v1 `backplane/<id>/media_stream/`: a link's streams as its sending node measured them (rx:
   * what it receives from the other node, tx: what it sends), by type; null for an unknown link.
   */
  linkMediaStreams(linkId: string): Record<string, string | number | null>[] | null {
    for (const bp of this.list()) {
      const i = bp.linkIds.indexOf(linkId);
      if (i < 0) continue;
      const from = i === 0 ? bp.a : bp.b;
      return (this.statistics.get(`${bp.id}\n${from.id}`) ?? []).map((s) => ({
        ...toPexipMediaStream(s, from.name),
        backplane: `/api/admin/status/v1/backplane/${linkId}/`,
      }));
    }
    return null;
  }

  private find(backplaneId: string): BrokeredBackplane | undefined {
    const key = this.byId.get(backplaneId);
    return (key ? this.backplanes.get(key) : undefined) ?? this.elsewhere.get(backplaneId);
  }

  /** A conference's backplane links for the console's live view, one each way. */
  linksOf(conference: string): BackplaneLinkView[] {
    return this.list()
      .filter((bp) => bp.conference === conference)
      .flatMap((bp) =>
        (
          [
            [bp.a, bp.b, bp.linkIds[0]],
            [bp.b, bp.a, bp.linkIds[1]],
          ] as const
        ).map(([from, to, id]) => ({
          id,
          mediaNode: from.name,
          remoteMediaNode: to.name,
          systemLocation: from.location,
          type: bp.type,
          startTime: bp.startTime,
        })),
      );
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private nodeEntry(node: BrokerNode): BrokerNode & { conferences: Map<string, NodeConference> } {
    let entry = this.nodes.get(node.id);
    if (!entry) {
      entry = { ...node, conferences: new Map() };
      this.nodes.set(node.id, entry);
    }
    entry.name = node.name;
    entry.location = node.location;
    return entry;
  }

  private forgetStatistics(backplaneId: string): void {
    for (const key of [...this.statistics.keys()]) if (key.startsWith(`${backplaneId}\n`)) this.statistics.delete(key);
  }

  /** Opens the backplanes now wanted and closes the others. */
  private reconcile(): void {
    for (const id of [...this.nodes.keys()]) if (!this.links.isLive(id)) this.nodes.delete(id);
    // Another server's backplane whose node has gone (its server too, perhaps): no longer listed.
    for (const [id, bp] of this.elsewhere) if (!this.links.isLive(bp.a.id) || !this.links.isLive(bp.b.id)) this.elsewhere.delete(id);
    const holders = new Map<string, BrokerNode[]>();
    for (const n of this.nodes.values()) {
      for (const c of n.conferences.values()) {
        if (c.participants.size === 0 && c.hosted.size === 0) continue;
        const list = holders.get(c.name) ?? [];
        if (!list.some((x) => x.id === n.id)) list.push({ id: n.id, name: n.name, location: n.location });
        holders.set(c.name, list);
      }
    }
    const wanted = new Map<string, { conference: string; a: BrokerNode; b: BrokerNode }>();
    for (const [conference, list] of holders) {
      list.sort((x, y) => x.id - y.id);
      // This server brokers the pairs whose lower-id node is linked here.
      for (let i = 0; i < list.length; i++) {
        if (!this.links.isConnectedHere(list[i]!.id)) continue;
        for (let j = i + 1; j < list.length; j++) wanted.set(`${conference}\n${list[i]!.id}\n${list[j]!.id}`, { conference, a: list[i]!, b: list[j]! });
      }
    }
    for (const key of [...this.backplanes.keys()]) if (!wanted.has(key)) this.close(key);
    const now = Date.now();
    for (const [key, w] of wanted) {
      if (this.backplanes.has(key) || (this.refused.get(key) ?? 0) > now) continue;
      this.refused.delete(key);
      this.open(key, w.conference, w.a, w.b);
    }
  }

  private open(key: string, conference: string, a: BrokerNode, b: BrokerNode): void {
    const type: BackplaneType = a.location === b.location ? 'local' : 'geographic';
    const id = randomUUID();
    const bp: BrokeredBackplane = { id, conference, a, b, type, startTime: new Date().toISOString(), linkIds: linkIdsOf(id) };
    this.backplanes.set(key, bp);
    this.byId.set(bp.id, key);
    for (const [self, peer] of [
      [a, b],
      [b, a],
    ] as const)
      this.links.command([self.id], {
        type: 'backplane_open',
        backplaneId: bp.id,
        conference,
        peer: { nodeId: peer.id, name: peer.name, location: peer.location },
        backplaneType: type,
      });
    this.log.info({ backplane: bp.id, conference, nodes: [a.name, b.name], type }, 'backplane opened');
    this.emit('changed');
  }

  private close(key: string): void {
    const bp = this.backplanes.get(key);
    if (!bp) return;
    this.backplanes.delete(key);
    this.byId.delete(bp.id);
    this.forgetStatistics(bp.id);
    this.links.command([bp.a.id, bp.b.id], { type: 'backplane_close', backplaneId: bp.id });
    this.log.info({ backplane: bp.id, conference: bp.conference }, 'backplane closed');
    this.emit('closed', bp);
    this.emit('changed');
  }

  /** A node's transport, stream offer or meeting control, to the other end as it came (checked again there). */
  private relay(from: number, msg: Extract<NodeToServer, { type: 'backplane_transport' | 'backplane_streams' | 'backplane_control' }>): void {
    const key = this.byId.get(msg.backplaneId);
    const bp = key ? this.backplanes.get(key) : undefined;
    if (!bp) return;
    const to = bp.a.id === from ? bp.b.id : bp.b.id === from ? bp.a.id : null;
    if (to === null) return; // not one of its ends: ignored
    this.links.command([to], msg);
  }
}

/** The ids of a backplane's two status links (a→b, b→a), the same on every server of a cluster. */
function linkIdsOf(backplaneId: string): [string, string] {
  const uuid = (tag: string) => {
    const h = createHash('sha256').update(`${backplaneId}/${tag}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  return [uuid('a'), uuid('b')];
}
