import type { Logger } from 'pino';
import type { NodeToServer } from '../../../shared/node-protocol/messages.js';
import type { RemoteLegMessage, RemoteLegParticipant } from '../../../shared/node-protocol/remoteMedia.js';
import { RESOURCE_UNAVAILABLE, type CallKind } from '../../../shared/platform/mediaAllocation.js';
import type { Conference } from '../../conference/Conference.js';
import type { ConferenceManager } from '../../conference/ConferenceManager.js';
import type { Participant } from '../../conference/Participant.js';
import { z } from 'zod';
import { SESSION_EVENTS } from '../../../shared/node-protocol/remoteMedia.js';
import { randomUUID } from 'node:crypto';
import type { CallLeg, MediaJson, MediaParticipantState, MultiStreamSession, TransportInfo } from '../MediaTypes.js';
import { RemoteSession } from './RemoteSession.js';
import { RemoteCallLeg } from './RemoteCallLeg.js';
import { RemoteSipCallLeg } from '../../sip/RemoteSipCallLeg.js';
import type { SipMediaLeg } from '../../sip/SipCallLeg.js';
import { PROMPT_TONES, type PromptName } from '../../sip/ivr/prompts.js';
import { relayAnswer, relaySipAnswer, UdpRelay, type RelayLatch } from './UdpRelay.js';

/** What the media node is told of a participant. */
export function legParticipant(p: Participant): RemoteLegParticipant {
  return {
    id: p.id,
    displayName: p.displayName,
    role: p.role === 'HOST' ? 'host' : 'guest',
    held: p.held,
    muted: p.isMuted,
    videoMuted: p.isVideoMuted,
    rxPresentationDenied: p.rxPresentationDenied,
    spotlight: p.spotlight,
  };
}

const mediaState = (p: RemoteLegParticipant): MediaParticipantState => ({
  role: p.role,
  held: p.held,
  ...(p.muted !== undefined ? { muted: p.muted } : {}),
  ...(p.videoMuted !== undefined ? { videoMuted: p.videoMuted } : {}),
  ...(p.rxPresentationDenied !== undefined ? { rxPresentationDenied: p.rxPresentationDenied } : {}),
  ...(p.spotlight !== undefined ? { spotlight: p.spotlight } : {}),
});

interface HostedLeg {
  /** A single-stream call's leg, or (`leg` null) a multi-stream client's session. */
  leg: CallLeg | null;
  session?: MultiStreamSession;
  /** A SIP call's leg (the same as `leg`): keys go back, prompts are played on it. */
  sip?: SipMediaLeg;
  conference: Conference;
  participantId: string;
  /** The signalling node. */
  fromNode: number;
}

export interface RemoteLegsOptions {
  /** To the management server, which passes `media_relay` on to the node named. */
  send: (msg: NodeToServer) => void;
  log: Logger;
  /** The media node counts a hosted call's tokens like its own (media allocation sees its load). */
  hold?: (participantId: string, call: CallKind) => void;
  /** Whether a call still fits here when it comes (the signalling node decided on a load report a moment old). */
  fits?: (call: CallKind, hostsConference: boolean) => boolean;
  release?: (participantId: string) => void;
  /** How often a hosted leg's packet counts go to its signalling node. */
  statsIntervalMs?: number;
  /** This node's id in the platform (null before its configuration came). */
  selfId?: () => number | null;
  /** Where an edge relay listens (a proxying node): the node's address and media ports. */
  relayAddress?: string;
  relayPorts?: () => readonly [number, number];
  /** The media side of another node's SIP call: a plain-RTP leg in this conference instance (null where the media engine has none). */
  sipLeg?: (conference: Conference, participantId: string, encryption: 'besteffort' | 'on' | 'off') => SipMediaLeg | null;
  /** A voice prompt of the conference's theme, for a SIP call's media here. */
  prompt?: (conference: Conference, name: PromptName) => Int16Array;
}

/** Where a SIP call's media goes: the media node, the call's kind, its media encryption and any proxying node relaying it. */
export interface SipMediaPlan {
  mediaNode: { id: number; name: string };
  call: CallKind;
  encryption: 'besteffort' | 'on' | 'off';
  proxyNode?: { id: number; name: string };
}

const isPromptName = (name: string): name is PromptName => Object.hasOwn(PROMPT_TONES, name);

/** How long a node may be missing from the live list before its calls' other ends here end. */
const NODE_GONE_MS = 15_000;

/** How long a proxying node has to open its relay. */
const RELAY_TIMEOUT_MS = 10_000;

/**
 * Both ends of calls whose media is on another node than their signalling (issue 14; admin guide
 * "Handling of media and signaling", rule 7). As the signalling node it makes `RemoteCallLeg`s
 * and passes them what the media node says; as the media node it opens a leg in the service's
 * conference instance here (started if need be) for each `open`, answers with this node's
 * transport, and follows the participant's state as the signalling node reports it. Either side
 * closing ends the leg on both. The media node's instance joins the other nodes' over backplanes
 * like any other, so the participant hears and sees the whole conference.
 */
export class RemoteLegs {
  private readonly outgoing = new Map<string, RemoteCallLeg>();
  /** Multi-stream sessions this node signals whose media is elsewhere. */
  private readonly sessions = new Map<string, RemoteSession>();
  private readonly hosted = new Map<string, HostedLeg>();
  /** Edge relays this node runs (a proxying node), by leg: for the node that signals the call. */
  private readonly relays = new Map<string, { relay: UdpRelay; owner: number; participantId?: string }>();
  /** Relays asked of another proxying node, answered by `relay_ready`. */
  private readonly relayRequests = new Map<string, { resolve: (at: { address: string; port: number }) => void; reject: (err: Error) => void; node: number }>();
  private readonly statsTimer: NodeJS.Timeout;
  /** Nodes absent from the live list, since when. */
  private readonly missingSince = new Map<number, number>();

  constructor(
    private readonly manager: ConferenceManager,
    private readonly opts: RemoteLegsOptions,
  ) {
    this.statsTimer = setInterval(() => this.reportStats(), opts.statsIntervalMs ?? 5_000);
    this.statsTimer.unref();
  }

  /**
   * Signalling side: participant `p`'s call, its media on `mediaNode`; with `proxyNode` (a call
   * signalled on a proxying edge node), that node forwards the lineside media.
   */
  create(conf: Conference, p: Participant, mediaNode: { id: number; name: string }, call: CallKind, proxyNode?: { id: number; name: string }): RemoteCallLeg {
    let relayAt: { address: string; port: number } | null = null;
    const viaEdge = proxyNode
      ? async (sdp: string) => {
          const found = relayAnswer(sdp, null);
          if (!found) throw new Error('The media node offered no UDP candidate to relay');
          relayAt ??= await this.relayFor(leg.id, proxyNode, found.target, call);
          return relayAnswer(sdp, relayAt)!.sdp;
        }
      : undefined;
    const leg: RemoteCallLeg = new RemoteCallLeg({
      mediaNode,
      conference: conf.service.name,
      participant: legParticipant(p),
      call,
      send: (message) => this.opts.send({ type: 'media_relay', toNode: mediaNode.id, message }),
      ...(viaEdge ? { viaEdge } : {}),
      ...(proxyNode ? { proxyNode } : {}),
    });
    return this.track(leg, conf, p, proxyNode);
  }

  /**
   * Signalling side: a SIP call's media on `mediaNode`; with `proxyNode`, that node relays each of
   * the answer's RTP and RTCP ports (learning the phone from its first packet, as symmetric RTP does).
   */
  createSip(conf: Conference, p: Participant, plan: SipMediaPlan): RemoteSipCallLeg {
    return this.track(this.sipLeg(conf.service.name, legParticipant(p), plan), conf, p);
  }

  /**
   * Signalling side: a SIP call at PIN entry whose media goes to `mediaNode`: held there in the
   * conference (it hears only its prompts, nobody hears it) under the id its participant will have;
   * `follow` lets it in once the PIN is right.
   */
  createSipAtPin(service: string, participant: { id: string; displayName: string }, plan: SipMediaPlan): RemoteSipCallLeg {
    const waiting: RemoteLegParticipant = { ...participant, role: 'guest', held: true };
    const leg = this.sipLeg(service, waiting, plan);
    this.outgoing.set(leg.id, leg);
    leg.on('closed', () => this.outgoing.delete(leg.id));
    return leg;
  }

  /** The media node follows participant `p` from now on (a call that was at PIN entry joined). */
  follow(leg: RemoteCallLeg, conf: Conference, p: Participant, now = true): void {
    // Muted, held, role, spotlight: the media node forwards accordingly.
    const follow = (q: Participant) => {
      if (q === p) leg.setParticipant(legParticipant(p));
    };
    conf.on('participantUpdated', follow);
    leg.on('closed', () => conf.off('participantUpdated', follow));
    if (now) leg.setParticipant(legParticipant(p));
  }

  private sipLeg(conference: string, participant: RemoteLegParticipant, { mediaNode, call, encryption, proxyNode }: SipMediaPlan): RemoteSipCallLeg {
    const relays = new Map<string, Promise<{ address: string; port: number }>>();
    const relayIds: string[] = [];
    const viaEdge = proxyNode
      ? (sdp: string) =>
          relaySipAnswer(sdp, (target) => {
            // One relay per port of the media node, kept across re-INVITEs (their answers name the same ports).
            const key = `${target.address}:${target.port}`;
            let at = relays.get(key);
            if (!at) {
              const id = randomUUID();
              relayIds.push(id);
              at = this.relayFor(id, proxyNode, target, relayIds.length === 1 ? call : 'audio', 'first');
              relays.set(key, at);
            }
            return at;
          })
      : undefined;
    const leg = new RemoteSipCallLeg({
      mediaNode,
      conference,
      participant,
      call,
      send: (message) => this.opts.send({ type: 'media_relay', toNode: mediaNode.id, message }),
      sip: { encryption },
      ...(proxyNode ? { proxyNode, viaEdge } : {}),
    });
    if (proxyNode) leg.on('closed', (reason) => relayIds.forEach((id) => this.endRelay(id, proxyNode.id, reason)));
    return leg;
  }

  private track<L extends RemoteCallLeg>(leg: L, conf: Conference, p: Participant, proxyNode?: { id: number; name: string }): L {
    this.outgoing.set(leg.id, leg);
    this.follow(leg, conf, p, false);
    leg.on('closed', (reason) => {
      this.outgoing.delete(leg.id);
      if (proxyNode) this.endRelay(leg.id, proxyNode.id, reason);
    });
    return leg;
  }

  /** The edge relay for a call: on this node when it is the proxying node chosen, else asked of that one. */
  private async relayFor(
    legId: string,
    proxyNode: { id: number; name: string },
    target: { address: string; port: number },
    call: CallKind,
    latch: RelayLatch = 'ice',
  ): Promise<{ address: string; port: number }> {
    if (proxyNode.id === this.opts.selfId?.()) {
      const relay = await this.openRelay(target, latch);
      this.relays.set(legId, { relay, owner: proxyNode.id });
      return { address: this.opts.relayAddress!, port: relay.port };
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.relayRequests.delete(legId);
        reject(new Error(`proxying node ${proxyNode.name} did not open its relay`));
      }, RELAY_TIMEOUT_MS);
      const done =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer);
          this.relayRequests.delete(legId);
          fn(v);
        };
      this.relayRequests.set(legId, { resolve: done(resolve), reject: done(reject), node: proxyNode.id });
      this.opts.send({
        type: 'media_relay',
        toNode: proxyNode.id,
        message: { kind: 'relay_open', legId, target, call, ...(latch === 'ice' ? {} : { latch }) },
      });
    });
  }

  private openRelay(target: { address: string; port: number }, latch: RelayLatch = 'ice'): Promise<UdpRelay> {
    if (!this.opts.relayAddress || !this.opts.relayPorts) return Promise.reject(new Error('this node cannot relay media'));
    return UdpRelay.open({ address: this.opts.relayAddress, portRange: this.opts.relayPorts(), target, log: this.opts.log, latch });
  }

  private endRelay(legId: string, proxyId: number, reason: string): void {
    this.relayRequests.get(legId)?.reject(new Error(reason));
    const mine = this.relays.get(legId);
    if (mine) {
      this.relays.delete(legId);
      mine.relay.close();
    } else if (proxyId !== this.opts.selfId?.()) this.opts.send({ type: 'media_relay', toNode: proxyId, message: { kind: 'close', legId, reason } });
  }

  /** The edge relays this node runs (status, tests). */
  get edgeRelays(): UdpRelay[] {
    return [...this.relays.values()].map((r) => r.relay);
  }

  /** The legs this node signals whose media is elsewhere (status, tests). */
  get signalled(): RemoteCallLeg[] {
    return [...this.outgoing.values()];
  }

  /** The legs this node handles for other nodes. */
  get hostedLegs(): { legId: string; participantId: string; conference: string; fromNode: number }[] {
    return [...this.hosted].map(([legId, h]) => ({ legId, participantId: h.participantId, conference: h.conference.service.name, fromNode: h.fromNode }));
  }

  /** A `media_relay` from node `fromNode`. */
  handle(fromNode: number, msg: RemoteLegMessage): void {
    if (this.relayMessage(fromNode, msg)) return;
    const session = this.sessions.get(msg.legId);
    if (session) {
      if (session.mediaNode.id === fromNode) session.receive(msg);
      return;
    }
    const out = this.outgoing.get(msg.legId);
    if (out) {
      if (out.mediaNode.id === fromNode) out.receive(msg);
      return;
    }
    const h = this.hosted.get(msg.legId);
    if (msg.kind === 'open' || msg.kind === 'session_open') {
      if (!h) void (msg.kind === 'open' ? this.host(fromNode, msg) : this.hostSession(fromNode, msg));
      return;
    }
    if (!h || h.fromNode !== fromNode) return;
    const reply = (message: RemoteLegMessage) => this.opts.send({ type: 'media_relay', toNode: fromNode, message });
    if (!h.leg) {
      if (msg.kind === 'session_call' && h.session) void this.sessionCall(h, h.session, msg, reply);
      else if (msg.kind === 'state' && !h.conference.isEnded) h.conference.hostMedia(h.participantId, mediaState(msg.participant));
      else if (msg.kind === 'close') {
        this.hosted.delete(msg.legId);
        h.session?.close();
        this.released(h);
      }
      return;
    }
    switch (msg.kind) {
      case 'negotiate':
        h.leg.negotiate(msg.sdp).then(
          (sdp) => reply({ kind: 'answer', legId: msg.legId, seq: msg.seq, sdp }),
          (err: unknown) => reply({ kind: 'failed', legId: msg.legId, seq: msg.seq, reason: reasonOf(err) }),
        );
        return;
      case 'candidate':
        void h.leg.addRemoteCandidate(msg.candidate, msg.mid).catch(() => undefined);
        return;
      case 'answered':
        void h.leg.answered?.(msg.sdp).catch((err: unknown) => this.opts.log.warn({ err, leg: msg.legId }, 'answer to our offer not applied'));
        return;
      case 'state':
        if (!h.conference.isEnded) h.conference.hostMedia(h.participantId, mediaState(msg.participant));
        return;
      case 'prompt': {
        const sip = h.sip;
        const prompt = this.opts.prompt;
        const done = () => reply({ kind: 'prompted', legId: msg.legId, seq: msg.seq });
        if (!sip || !prompt || !isPromptName(msg.name)) return done();
        this.opts.log.debug({ leg: msg.legId, prompt: msg.name }, 'Voice prompt for a call signalled on another node');
        // Once the phone's audio has arrived (where to send is known then), as on the signalling node.
        void sip
          .heard(3_000)
          .then(() => sip.play(prompt(h.conference, msg.name as PromptName)))
          .catch((err: unknown) => this.opts.log.warn({ err, leg: msg.legId }, 'prompt not played'))
          .finally(done);
        return;
      }
      case 'close':
        this.hosted.delete(msg.legId);
        h.leg.close(msg.reason);
        this.released(h);
        return;
      default:
        return;
    }
  }

  /** Edge relays, on the proxying node and for the node that asked; true when the message was one of theirs. */
  private relayMessage(fromNode: number, msg: RemoteLegMessage): boolean {
    if (msg.kind === 'relay_open') {
      if (this.relays.has(msg.legId)) return true;
      const reply = (message: RemoteLegMessage) => this.opts.send({ type: 'media_relay', toNode: fromNode, message });
      this.openRelay(msg.target, msg.latch ?? 'ice').then(
        (relay) => {
          this.relays.set(msg.legId, { relay, owner: fromNode, participantId: msg.legId });
          this.opts.hold?.(msg.legId, msg.call);
          reply({ kind: 'relay_ready', legId: msg.legId, address: this.opts.relayAddress!, port: relay.port });
        },
        (err: unknown) => reply({ kind: 'close', legId: msg.legId, reason: reasonOf(err) }),
      );
      return true;
    }
    const asked = this.relayRequests.get(msg.legId);
    if (asked && asked.node === fromNode) {
      if (msg.kind === 'relay_ready') asked.resolve({ address: msg.address, port: msg.port });
      else if (msg.kind === 'close') asked.reject(new Error(msg.reason));
      return true;
    }
    const relayed = this.relays.get(msg.legId);
    if (relayed && relayed.owner === fromNode && relayed.participantId && msg.kind === 'close') {
      this.relays.delete(msg.legId);
      relayed.relay.close();
      this.opts.release?.(relayed.participantId);
      return true;
    }
    return false;
  }

  /**
   * The nodes live now (the management server's `platform_load`): a call whose media node is gone
   * ends on its signalling node; media and relays held for a signalling node that is gone end here.
   */
  nodesLive(live: ReadonlySet<number>, now = Date.now()): void {
    // A node missing from one report may only have reconnected: gone once missing for NODE_GONE_MS.
    for (const id of live) this.missingSince.delete(id);
    const self = this.opts.selfId?.() ?? null;
    const ids = {
      has: (id: number) => {
        if (id === self || live.has(id)) return true;
        const since = this.missingSince.get(id) ?? now;
        this.missingSince.set(id, since);
        return now - since < NODE_GONE_MS;
      },
    };
    for (const leg of [...this.outgoing.values()])
      if (!ids.has(leg.mediaNode.id)) leg.receive({ kind: 'close', legId: leg.id, reason: 'Media node unavailable' });
    for (const session of [...this.sessions.values()])
      if (!ids.has(session.mediaNode.id)) session.receive({ kind: 'close', legId: session.id, reason: 'Media node unavailable' });
    for (const [legId, h] of [...this.hosted]) {
      if (ids.has(h.fromNode)) continue;
      this.hosted.delete(legId);
      // Told too, in case it is only cut off from the management server and comes back.
      this.opts.send({ type: 'media_relay', toNode: h.fromNode, message: { kind: 'close', legId, reason: 'Signalling node unavailable' } });
      h.leg?.close('Signalling node unavailable');
      h.session?.close();
      this.released(h);
    }
    for (const [legId, r] of [...this.relays]) {
      if (ids.has(r.owner)) continue;
      this.relays.delete(legId);
      r.relay.close();
      if (r.participantId) this.opts.release?.(r.participantId);
    }
  }

  closeAll(reason = 'Conferencing node shutting down'): void {
    clearInterval(this.statsTimer);
    for (const [legId, r] of [...this.relays]) {
      this.relays.delete(legId);
      r.relay.close();
    }
    for (const leg of [...this.outgoing.values()]) leg.close(reason);
    for (const session of [...this.sessions.values()]) session.close();
    for (const [legId, h] of [...this.hosted]) {
      this.hosted.delete(legId);
      this.opts.send({ type: 'media_relay', toNode: h.fromNode, message: { kind: 'close', legId, reason } });
      h.leg?.close(reason);
      h.session?.close();
      this.released(h);
    }
  }

  private async host(fromNode: number, msg: Extract<RemoteLegMessage, { kind: 'open' }>): Promise<void> {
    const reply = (message: RemoteLegMessage) => this.opts.send({ type: 'media_relay', toNode: fromNode, message });
    const hostsConference = this.manager.conferences().some((c) => c.service.name === msg.conference);
    if (this.opts.fits && !this.opts.fits(msg.call, hostsConference)) {
      this.opts.log.warn({ conference: msg.conference, call: msg.call }, 'Call refused: out of transcoding resource (media for another node)');
      reply({ kind: 'failed', legId: msg.legId, seq: 0, reason: RESOURCE_UNAVAILABLE });
      reply({ kind: 'close', legId: msg.legId, reason: RESOURCE_UNAVAILABLE });
      return;
    }
    const conference = this.manager.instanceForMedia(msg.conference);
    if (!conference) {
      reply({ kind: 'failed', legId: msg.legId, seq: 0, reason: 'Conference not available on the media node' });
      reply({ kind: 'close', legId: msg.legId, reason: 'Call failed' });
      return;
    }
    const participantId = msg.participant.id;
    const sip = msg.sip ? (this.opts.sipLeg?.(conference, participantId, msg.sip.encryption) ?? null) : undefined;
    if (sip === null) {
      reply({ kind: 'failed', legId: msg.legId, seq: 0, reason: 'SIP media not available on the media node' });
      reply({ kind: 'close', legId: msg.legId, reason: 'Call failed' });
      return;
    }
    conference.hostMedia(participantId, mediaState(msg.participant));
    const leg = sip ?? conference.media.createLeg(participantId);
    const h: HostedLeg = { leg, conference, participantId, fromNode, ...(sip ? { sip } : {}) };
    // The phone's keys (RFC 4733 arrives here) go to the signalling node, which acts on them.
    sip?.keypad.on('dtmf', (digit) => {
      if (this.hosted.get(msg.legId) === h) reply({ kind: 'dtmf', legId: msg.legId, digit });
    });
    this.hosted.set(msg.legId, h);
    this.opts.hold?.(participantId, msg.call);
    this.opts.log.info({ conference: msg.conference, participant: participantId, signallingNode: fromNode }, 'Media for a call signalled on another node');
    leg.on('connected', () => reply({ kind: 'connected', legId: msg.legId }));
    leg.on('offer', (sdp) => reply({ kind: 'offer', legId: msg.legId, sdp }));
    leg.on('closed', (reason) => {
      // Ended here (media failed, the conference ended): the signalling node is told.
      if (this.hosted.get(msg.legId) !== h) return;
      this.hosted.delete(msg.legId);
      reply({ kind: 'close', legId: msg.legId, reason });
      this.released(h);
    });
    try {
      // A SIP INVITE without SDP: our offer goes back in place of an answer (the phone answers in its ACK).
      const sdp = sip && msg.sip?.late ? await sip.offer() : await leg.negotiate(msg.sdp);
      if (this.hosted.get(msg.legId) === h) reply({ kind: 'answer', legId: msg.legId, seq: 0, sdp });
    } catch (err) {
      this.opts.log.warn({ err, participant: participantId }, 'could not answer a call offer for another node');
      reply({ kind: 'failed', legId: msg.legId, seq: 0, reason: reasonOf(err) });
      leg.close('Call failed');
    }
  }

  /** Signalling side: participant `p`'s multi-stream session, its media on `mediaNode`. */
  openSession(conf: Conference, p: Participant, mediaNode: { id: number; name: string }, proxyNode?: { id: number; name: string }): RemoteSession {
    // Through a proxying edge node: one relay per transport (send, receive), each its own leg id.
    const relayIds: string[] = [];
    const viaEdge = proxyNode
      ? async (t: TransportInfo): Promise<TransportInfo> => {
          const udp = t.iceCandidates.map(iceCandidate).find((c) => c?.protocol === 'udp');
          if (!udp) throw new Error('The media node offered no UDP candidate to relay');
          const relayId = randomUUID();
          relayIds.push(relayId);
          // The session is one call: its first relay holds the call's media tokens on the proxying node, the second an audio call's.
          const at = await this.relayFor(relayId, proxyNode, { address: udp.address, port: udp.port }, relayIds.length === 1 ? 'hd' : 'audio');
          return { ...t, iceCandidates: [{ ...udp.raw, ...('ip' in udp.raw ? { ip: at.address } : {}), address: at.address, port: at.port }] };
        }
      : undefined;
    const session = new RemoteSession({
      participantId: p.id,
      mediaNode,
      conference: conf.service.name,
      participant: legParticipant(p),
      send: (message) => this.opts.send({ type: 'media_relay', toNode: mediaNode.id, message }),
      ...(proxyNode ? { proxyNode, viaEdge } : {}),
    });
    this.sessions.set(session.id, session);
    const follow = (q: Participant) => {
      if (q === p && !session.closed)
        this.opts.send({ type: 'media_relay', toNode: mediaNode.id, message: { kind: 'state', legId: session.id, participant: legParticipant(p) } });
    };
    conf.on('participantUpdated', follow);
    session.on('closed', () => {
      this.sessions.delete(session.id);
      conf.off('participantUpdated', follow);
      if (proxyNode) for (const id of relayIds) this.endRelay(id, proxyNode.id, 'Session closed');
    });
    return session;
  }

  /** Media side: a multi-stream client's session for another node. */
  private async hostSession(fromNode: number, msg: Extract<RemoteLegMessage, { kind: 'session_open' }>): Promise<void> {
    const reply = (message: RemoteLegMessage) => this.opts.send({ type: 'media_relay', toNode: fromNode, message });
    const hostsConference = this.manager.conferences().some((c) => c.service.name === msg.conference);
    const conference = this.opts.fits && !this.opts.fits('hd', hostsConference) ? undefined : this.manager.instanceForMedia(msg.conference);
    if (!conference) {
      reply({ kind: 'failed', legId: msg.legId, seq: 0, reason: RESOURCE_UNAVAILABLE });
      reply({ kind: 'close', legId: msg.legId, reason: RESOURCE_UNAVAILABLE });
      return;
    }
    const participantId = msg.participant.id;
    conference.hostMedia(participantId, mediaState(msg.participant));
    const session = conference.media.openSession(participantId);
    const h: HostedLeg = { leg: null, session, conference, participantId, fromNode };
    this.hosted.set(msg.legId, h);
    this.opts.hold?.(participantId, 'hd');
    for (const event of SESSION_EVENTS)
      session.on(event, (arg: unknown) => {
        if (this.hosted.get(msg.legId) === h) reply({ kind: 'session_event', legId: msg.legId, event, arg });
      });
    session.on('closed', () => {
      if (this.hosted.get(msg.legId) !== h) return;
      this.hosted.delete(msg.legId);
      reply({ kind: 'close', legId: msg.legId, reason: 'Session closed' });
      this.released(h);
    });
    try {
      const { send, recv } = await session.join(msg.rtpCapabilities);
      if (this.hosted.get(msg.legId) === h) reply({ kind: 'session_joined', legId: msg.legId, send, recv });
    } catch (err) {
      reply({ kind: 'failed', legId: msg.legId, seq: 0, reason: reasonOf(err) });
      session.close();
    }
  }

  /** One of the client's requests, checked here as the client API checks it on the signalling node. */
  private async sessionCall(
    h: HostedLeg,
    session: MultiStreamSession,
    msg: Extract<RemoteLegMessage, { kind: 'session_call' }>,
    reply: (m: RemoteLegMessage) => void,
  ): Promise<void> {
    try {
      const a = msg.args;
      const id = z.string().min(1).max(64);
      let result: unknown;
      switch (msg.method) {
        case 'connectTransport':
          await session.connectTransport(id.parse(a[0]), jsonArg.parse(a[1]));
          break;
        case 'produce':
          result = await session.produce(id.parse(a[0]), produceArg.parse(a[1]));
          break;
        case 'restartIce':
          result = await session.restartIce(id.parse(a[0]));
          break;
        case 'pauseProducer':
          await session.pauseProducer(id.parse(a[0]));
          break;
        case 'resumeProducer':
          await session.resumeProducer(id.parse(a[0]));
          break;
        case 'closeProducer':
          session.closeProducer(id.parse(a[0]));
          break;
        case 'resumeConsumer':
          await session.resumeConsumer(id.parse(a[0]));
          break;
        case 'setConsumerPreferences':
          await session.setConsumerPreferences(id.parse(a[0]), preferencesArg.parse(a[1]));
          break;
        case 'replayConsumers':
          session.replayConsumers();
          break;
        case 'mediaStreams':
          result = await session.mediaStreams();
          break;
        case 'stopPresentation':
          h.conference.media.stopPresentation(h.participantId);
          break;
      }
      reply({ kind: 'session_result', legId: msg.legId, seq: msg.seq, ...(result !== undefined ? { result } : {}) });
    } catch (err) {
      reply({ kind: 'failed', legId: msg.legId, seq: msg.seq, reason: err instanceof z.ZodError ? 'Invalid request' : reasonOf(err) });
    }
  }

  private released(h: HostedLeg): void {
    this.opts.release?.(h.participantId);
    h.conference.releaseMedia(h.participantId);
  }

  private reportStats(): void {
    for (const [legId, h] of this.hosted) {
      if (!h.leg) continue;
      const s = h.leg.stats();
      this.opts.send({ type: 'media_relay', toNode: h.fromNode, message: { kind: 'stats', legId, packetsIn: s.packetsIn, packetsOut: s.packetsOut } });
    }
  }
}

const jsonArg = z.record(z.string(), z.unknown());
const produceArg = z.object({
  kind: z.enum(['audio', 'video']),
  rtpParameters: jsonArg,
  source: z.enum(['mic', 'camera', 'screen']),
  paused: z.boolean().optional(),
});
const preferencesArg = z.object({
  paused: z.boolean().optional(),
  spatialLayer: z.number().int().min(0).max(10).optional(),
  temporalLayer: z.number().int().min(0).max(10).optional(),
  priority: z.number().int().min(1).max(255).optional(),
});

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 250);

/** A mediasoup ICE candidate as the media node sent it (JSON), read where the relay needs it. */
function iceCandidate(raw: MediaJson): { protocol: string; address: string; port: number; raw: MediaJson } | null {
  const address = typeof raw.address === 'string' ? raw.address : typeof raw.ip === 'string' ? raw.ip : null;
  if (address === null || typeof raw.port !== 'number' || typeof raw.protocol !== 'string') return null;
  return { protocol: raw.protocol, address, port: raw.port, raw };
}
