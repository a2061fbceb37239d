import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { ParticipantMedia } from '../../shared/node-protocol/mediaStatus.js';
import type { PlatformConfig, ServerToNode } from '../../shared/node-protocol/messages.js';
import {
  allocateMedia,
  backplaneReservation,
  MEDIA_TOKENS,
  RESOURCE_UNAVAILABLE,
  type Allocation,
  type AllocationNode,
  type CallKind,
} from '../../shared/platform/mediaAllocation.js';
import type { NodeAlarms } from '../alarms/NodeAlarms.js';
import { callType, capacityFor } from '../status/NodeLoad.js';

type PlatformLoad = Extract<ServerToNode, { type: 'platform_load' }>['nodes'];

/** What the join paths are told: admitted here, or refused with the guide's reason. */
export type Admission =
  | {
      ok: true;
      /** Set when the call's media goes to another node (its signalling stays here): nothing is held here. */
      mediaNode?: { id: number; name: string };
      /** Set when the call was signalled on a proxying edge node: the one that forwards its lineside media (it holds the tokens). */
      proxyNode?: { id: number; name: string };
    }
  | {
      ok: false;
      /** What the caller is told (guide: "Resource unavailable"). */
      reason: typeof RESOURCE_UNAVAILABLE;
    };

export interface MediaAdmissionOptions {
  /** Every participant's current media on this node (the load meter's source). */
  participants: () => ParticipantMedia[];
  /** Conference instances on this node that could span nodes (VMRs, Virtual Auditoriums): each reserves a backplane. */
  conferencesHosted?: () => number;
  /** Whether the link to the management server is up: without it, other nodes' loads are not known. */
  linked: () => boolean;
  maintenanceMode: () => boolean;
  alarms: Pick<NodeAlarms, 'raise' | 'lower'>;
  log: Logger;
  /** CPU cores when no capacity is configured. */
  cores?: number;
  /** Other nodes' loads older than this count as unknown (not live); default 3 load intervals. */
  staleMs?: number;
  now?: () => number;
  /** A call's tokens were held or freed (the node reports its load soon after). */
  changed?: () => void;
}

/**
 * Capacity at join (admin guide "Handling of media and signaling", digest 1 §9): this node's view of
 * the platform (locations, nodes, capacities from the configuration; loads as the management server
 * relays them) and its own load, always current. Each call start asks `allocateMedia` where its
 * media goes; a refusal is the guide's "Resource unavailable", logged with the administrator log's
 * words, and raises "Call capacity limit reached" until a call fits again. Without the management
 * server (or before it has told this node anything) the node decides on its own capacity alone.
 *
 * A participant costs what its media costs (the load meter's measure) and at least what its call
 * held when it started; a participant without a call (API only) holds nothing.
 */
export class MediaAdmission {
  private platform: PlatformConfig = { locations: [], nodes: [] };
  private selfId: number | null = null;
  private loads = new Map<number, PlatformLoad[number]>();
  private loadsAt = 0;
  private readonly held = new Map<string, number>();
  /** The call kind refused for want of capacity, while the alarm is up. */
  private alarmed: CallKind | null = null;
  /**
   * Whether a call's media can go to another node now (the node's remote legs, while linked to the
   * management server). When not, or for a call that cannot (SIP), a call whose media the guide
   * places elsewhere stays on this node when it has room and is refused when it has none.
   */
  remoteMedia: (() => boolean) | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: MediaAdmissionOptions) {
    this.now = opts.now ?? Date.now;
  }

  configure(nodeId: number, platform: PlatformConfig): void {
    this.selfId = nodeId;
    this.platform = platform;
    this.checkAlarm();
  }

  /** The management server's relay of the live nodes' loads. */
  setLoads(nodes: PlatformLoad): void {
    this.loads = new Map(nodes.map((n) => [n.id, n]));
    this.loadsAt = this.now();
  }

  /** This node's capacity in media tokens: configured (HD calls × 12), else estimated from its cores. */
  get maxMediaTokens(): number {
    const configured = this.platform.nodes.find((n) => n.id === this.selfId)?.capacityHdCalls;
    return configured !== null && configured !== undefined
      ? configured * MEDIA_TOKENS.hd
      : capacityFor(this.opts.cores ?? availableParallelism()).maxMediaTokens;
  }

  /**
   * Tokens in use here: each participant's measured media, at least what its call held, and each
   * conference instance's backplane reservation where the deployment has more than one transcoding node.
   */
  get tokensUsed(): number {
    const cost = new Map(this.held);
    for (const p of this.opts.participants()) cost.set(p.participantId, Math.max(cost.get(p.participantId) ?? 0, callType(p).tokens));
    let sum = this.reservedTokens;
    for (const t of cost.values()) sum += t;
    return sum;
  }

  /** Backplane reservations of the conference instances here (digest 1 §7.3). */
  get reservedTokens(): number {
    return backplaneReservation(this.platform.nodes) * (this.opts.conferencesHosted?.() ?? 0);
  }

  /**
   * May a call of this kind to this conference start here? `hold` keeps its tokens for the
   * participant until it leaves (a call starting); without it the answer is only checked (a join
   * that has no call yet).
   */
  admit(req: { conference: string; call: CallKind; participantId?: string; hostsHere: boolean; remoteMedia?: boolean }): Admission {
    const decision = this.allocate(req.conference, req.call, req.hostsHere, req.participantId);
    const ctx = { conference: req.conference, call: req.call, participant: req.participantId };
    if (!decision.ok) {
      this.opts.log.warn({ ...ctx, reason: decision.log }, `Call refused: ${decision.log}`);
      this.raiseAlarm(req.call, decision.log);
      return { ok: false, reason: RESOURCE_UNAVAILABLE };
    }
    if (decision.mediaNode !== this.selfId && this.selfId !== null) {
      const node = this.platform.nodes.find((n) => n.id === decision.mediaNode)!;
      const where = {
        ...ctx,
        mediaNode: node.name,
        candidate: ['transcoding location', 'primary overflow location', 'secondary overflow location'][decision.candidate],
      };
      if (req.remoteMedia && this.remoteMedia?.()) {
        if (req.participantId) this.opts.log.info(where, `Call media allocated to ${node.name}; its signalling stays on this node`);
        const proxy = decision.proxyNode === undefined ? undefined : this.platform.nodes.find((n) => n.id === decision.proxyNode);
        // This proxying node forwards the call's media itself: its tokens are held here.
        if (proxy?.id === this.selfId && req.participantId) this.hold(req.participantId, req.call);
        return { ok: true, mediaNode: { id: node.id, name: node.name }, ...(proxy ? { proxyNode: { id: proxy.id, name: proxy.name } } : {}) };
      }
      if (!this.fitsHere(req.call, req.participantId, req.hostsHere)) {
        this.opts.log.warn(where, `Call refused: media allocated to ${node.name}, and media on another node than the signaling node is not available`);
        return { ok: false, reason: RESOURCE_UNAVAILABLE };
      }
      this.opts.log.info(where, `Media kept on this node (allocated to ${node.name}; media on another node is not available)`);
    }
    if (req.participantId) this.hold(req.participantId, req.call);
    return { ok: true };
  }

  /**
   * Where a multi-stream session's media goes, without refusing anything (its join was admitted):
   * the node media allocation chooses when that is another one and media can go there now, else null.
   */
  remoteMediaNode(conference: string, call: CallKind): { id: number; name: string; proxyNode?: { id: number; name: string } } | null {
    if (!this.remoteMedia?.() || this.selfId === null) return null;
    const decision = this.allocate(conference, call, true);
    if (!decision.ok || decision.mediaNode === this.selfId) return null;
    const node = this.platform.nodes.find((n) => n.id === decision.mediaNode);
    if (!node) return null;
    // Signalled on a proxying edge node: the client's transports are reached through a proxying node's relays.
    const proxy = decision.proxyNode === undefined ? undefined : this.platform.nodes.find((n) => n.id === decision.proxyNode);
    return { id: node.id, name: node.name, ...(proxy ? { proxyNode: { id: proxy.id, name: proxy.name } } : {}) };
  }

  /** The participant's call started: its tokens count until it leaves. */
  hold(participantId: string, call: CallKind): void {
    this.held.set(participantId, Math.max(this.held.get(participantId) ?? 0, MEDIA_TOKENS[call]));
    this.opts.changed?.();
  }

  /** The participant left: its tokens are free, and the capacity alarm may clear. */
  release(participantId: string): void {
    if (!this.held.delete(participantId)) return;
    this.checkAlarm();
    this.opts.changed?.();
  }

  /** Lowers "Call capacity limit reached" once a call of the refused kind fits here again (also on each load measure). */
  checkAlarm(): void {
    if (this.alarmed && this.fitsHere(this.alarmed)) {
      this.alarmed = null;
      this.opts.alarms.lower('capacity_exhausted', this.selfName());
    }
  }

  private raiseAlarm(call: CallKind, log: string): void {
    if (this.alarmed && MEDIA_TOKENS[this.alarmed] <= MEDIA_TOKENS[call]) return;
    this.alarmed = call;
    this.opts.alarms.raise('capacity_exhausted', this.selfName(), log);
  }

  private selfName(): string {
    return this.platform.nodes.find((n) => n.id === this.selfId)?.name ?? '';
  }

  /** Whether a call another node allocated here still fits (that node's view of this one's load may be a moment old). */
  fits(call: CallKind, hostsHere: boolean): boolean {
    return !this.opts.maintenanceMode() && this.fitsHere(call, undefined, hostsHere);
  }

  /** Whether the call fits on this node; one to a conference not hosted here needs its backplane reservation too. */
  private fitsHere(call: CallKind, participantId?: string, hostsHere = true): boolean {
    const already = participantId ? (this.held.get(participantId) ?? 0) : 0;
    const reserve = hostsHere ? 0 : backplaneReservation(this.platform.nodes);
    return this.maxMediaTokens - this.tokensUsed + already >= MEDIA_TOKENS[call] + reserve;
  }

  private allocate(conference: string, call: CallKind, hostsHere: boolean, participantId?: string): Allocation {
    const self = this.platform.nodes.find((n) => n.id === this.selfId);
    // Without a configuration naming this node (a node never connected, or from before allocation): its own capacity.
    if (!self) return this.fitsHere(call, participantId, hostsHere) ? { ok: true, mediaNode: this.selfId ?? -1, candidate: 0 } : noCapacity();
    const fresh = this.opts.linked() && this.now() - this.loadsAt <= (this.opts.staleMs ?? 15_000);
    const nodes = this.platform.nodes.map((n): AllocationNode => {
      if (n.id === self.id) {
        // This node as it is now; a participant starting its call already counts what it held.
        const used = this.tokensUsed - (participantId ? (this.held.get(participantId) ?? 0) : 0);
        return {
          ...base(n),
          live: true,
          maintenance: this.opts.maintenanceMode(),
          maxMediaTokens: this.maxMediaTokens,
          mediaTokensUsed: used,
          hostsConference: hostsHere,
        };
      }
      return this.nodeView(n, conference, fresh);
    });
    return allocateMedia({ signallingNode: self.id, call, locations: this.platform.locations, nodes });
  }

  private nodeView(n: PlatformConfig['nodes'][number], conference: string, fresh = true): AllocationNode {
    const load = fresh ? this.loads.get(n.id) : undefined;
    return {
      ...base(n),
      live: load !== undefined,
      maxMediaTokens: load?.maxMediaTokens ?? 0,
      mediaTokensUsed: load?.mediaTokensUsed ?? 0,
      hostsConference: load?.conferences.includes(conference) ?? false,
    };
  }
}

const base = (n: PlatformConfig['nodes'][number]) => ({ id: n.id, name: n.name, location: n.location, role: n.role, maintenance: n.maintenance });
const noCapacity = (): Allocation => ({ ok: false, reason: RESOURCE_UNAVAILABLE, log: 'out of transcoding resource' });
