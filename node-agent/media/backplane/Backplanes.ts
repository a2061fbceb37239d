import type { Logger } from 'pino';
import type { BackplaneControl, BackplaneParticipant, NodeToServer } from '../../../shared/node-protocol/messages.js';
import type { Actor } from '../../conference/ConferenceControl.js';
import type { Conference } from '../../conference/Conference.js';
import type { ConferenceManager } from '../../conference/ConferenceManager.js';
import type { BackplaneFromServer } from '../../management/ManagementLink.js';
import { MediasoupConferenceMedia } from '../mediasoup/MediasoupConferenceMedia.js';
import { Backplane } from './Backplane.js';

/** This node's participants as another node lists them. */
function offered(conference: Conference): BackplaneParticipant[] {
  return conference.participants.map((p) => ({
    id: p.id,
    displayName: p.displayName,
    role: p.role === 'HOST' ? 'chair' : 'guest',
    protocol: p.protocol,
    isMuted: p.isMuted,
    isClientMuted: p.isClientMuted,
    isVideoMuted: p.isVideoMuted,
    held: p.held,
    spotlight: p.spotlight,
  }));
}

/** Who acts when a Host on another node controls this node's participant: a Host, as there. */
const PEER_HOST: Actor = Object.freeze({ id: 'host on another node', role: 'HOST', held: false });

/**
 * A node's backplanes (issue 14), as the management server opens and closes them: each is tied to
 * the live conference instance of the service it names, re-offers this node's participants when
 * they change, and closes with the conference. A second backplane to the same peer for the same
 * conference replaces the first (the server lost track of it, e.g. over a reconnection).
 */
export class Backplanes {
  private readonly open = new Map<string, { backplane: Backplane; conference: Conference }>();
  private readonly statsTimer: NodeJS.Timeout;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly send: (msg: NodeToServer) => void,
    private readonly log: Logger,
    /** How often each backplane's media statistics go to the management server (status/v1 backplane media streams). */
    statisticsIntervalMs = 5_000,
  ) {
    this.statsTimer = setInterval(() => void this.reportStatistics(), statisticsIntervalMs);
    this.statsTimer.unref();
    manager.on('conferenceEnded', (c) => {
      for (const [id, e] of this.open) if (e.conference === c) this.close(id);
    });
    const changed = (c: Conference) => {
      for (const e of this.open.values()) if (e.conference === c) e.backplane.announceSoon();
    };
    manager.on('participantJoined', (c) => changed(c));
    manager.on('participantLeft', (c) => changed(c));
    manager.on('conferenceStarted', (c) => {
      c.on('participantUpdated', () => changed(c));
      c.on('shareControl', (control, backplaneId) => this.shareControl(c, control, backplaneId));
    });
  }

  /** The backplanes open now (status and tests). */
  list(): Backplane[] {
    return [...this.open.values()].map((e) => e.backplane);
  }

  handle(msg: BackplaneFromServer): void {
    switch (msg.type) {
      case 'backplane_open': {
        const conference = this.manager
          .conferences()
          .find((c) => c.service.name === msg.conference && (c.service.serviceType === 'conference' || c.service.serviceType === 'lecture'));
        if (!conference || !(conference.media instanceof MediasoupConferenceMedia)) {
          this.send({ type: 'backplane_closed', backplaneId: msg.backplaneId, reason: 'Conference not live on this node' });
          return;
        }
        for (const [id, e] of this.open) if (e.conference === conference && e.backplane.peer.nodeId === msg.peer.nodeId) this.close(id);
        const backplane = new Backplane(
          msg.backplaneId,
          msg.conference,
          msg.peer,
          msg.backplaneType,
          conference.media,
          () => offered(conference),
          this.send,
          this.log,
        );
        backplane.on('roster', (participants) => conference.setRemoteParticipants(backplane.id, participants));
        backplane.on('closed', () => {
          if (this.open.get(backplane.id)?.backplane === backplane) this.open.delete(backplane.id);
        });
        this.open.set(backplane.id, { backplane, conference });
        // The newer of the two nodes' lock and mute-all-Guests settings wins on both.
        const state = conference.sharedState;
        if (state.changedAt > 0) this.send({ type: 'backplane_control', backplaneId: backplane.id, control: state });
        return;
      }
      case 'backplane_control': {
        const e = this.open.get(msg.backplaneId);
        if (e) this.controlFromPeer(e.conference, msg.control);
        return;
      }
      case 'backplane_transport':
        void this.open
          .get(msg.backplaneId)
          ?.backplane.peerTransport(msg.transport)
          .catch((err: unknown) => this.failed(msg.backplaneId, err));
        return;
      case 'backplane_streams':
        void this.open
          .get(msg.backplaneId)
          ?.backplane.peerStreams(msg.participants, msg.streams)
          .catch((err: unknown) => this.failed(msg.backplaneId, err));
        return;
      case 'backplane_close':
        this.close(msg.backplaneId);
        return;
    }
  }

  closeAll(): void {
    clearInterval(this.statsTimer);
    for (const id of [...this.open.keys()]) this.close(id);
  }

  private shareControl(conference: Conference, control: BackplaneControl, backplaneId: string | null): void {
    for (const [id, e] of this.open)
      if (e.conference === conference && (backplaneId === null || id === backplaneId)) this.send({ type: 'backplane_control', backplaneId: id, control });
  }

  /** A Host on the other node acted on this node's participant or on the conference. */
  private controlFromPeer(conference: Conference, control: BackplaneControl): void {
    const control_ = this.manager.control;
    try {
      switch (control.kind) {
        case 'participant':
          return control_.participant(conference, PEER_HOST, control.participantId, control.action);
        case 'role':
          return control_.setRole(conference, PEER_HOST, control.participantId, control.role);
        case 'state':
          return conference.applySharedState(control);
        case 'end':
          return conference.end(control.reason);
      }
    } catch (err) {
      // E.g. the participant left meanwhile: nothing to do, the Host's node learns it from the roster.
      this.log.info({ err, conference: conference.service.name, control }, 'meeting control from another node not applied');
    }
  }

  private async reportStatistics(): Promise<void> {
    for (const { backplane } of [...this.open.values()]) {
      if (backplane.closed) continue;
      const streams = await backplane.measure().catch(() => []);
      if (!backplane.closed) this.send({ type: 'backplane_statistics', backplaneId: backplane.id, streams });
    }
  }

  private failed(id: string, err: unknown): void {
    this.log.warn({ err, backplane: id }, 'backplane failed');
    this.send({ type: 'backplane_closed', backplaneId: id, reason: 'Backplane failed' });
    this.close(id);
  }

  private close(id: string): void {
    const e = this.open.get(id);
    if (!e) return;
    this.open.delete(id);
    e.backplane.close();
  }
}
