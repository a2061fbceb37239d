import type { MediaStreamTrack, RtpPacket } from 'werift';
import type { Logger } from 'pino';
import type { CallLeg, ConferenceMedia, MediaEngineOptions, MediaKind, MediaMode, MediaParticipantState } from '../../../node-agent/media/MediaTypes.js';
import { DEFAULT_PARTICIPANT_STATE } from '../../../node-agent/media/ForwardingPolicy.js';
import { chooseSource } from './chooseSource.js';
import { DelayedLoopback } from '../../../node-agent/media/DelayedLoopback.js';
import { WeriftCallLeg } from './WeriftCallLeg.js';

const KINDS: MediaKind[] = ['audio', 'video'];
const PLI_MIN_INTERVAL_MS = 300;
/** After a leg connects, its sources are asked for keyframes at these delays (a PLI sent before
 * DTLS is up, or answered before the sender runs, is lost). */
const KEYFRAME_RETRIES_MS = [0, 400, 1_200, 3_000];
/** Test Call Service loopback delay (theme `test_call_service_media_delay`, 2 s). */
export const DEFAULT_LOOPBACK_DELAY_MS = 2_000;

/** A participant's incoming media of one kind, as the forwarding logic sees it. */
interface Publisher {
  participantId: string;
  publishedAt: number;
  requestKeyframe: () => void;
  lastPli: number;
}

type Route = Partial<Record<MediaKind, string>>;

/**
 * The node's first media engine, kept for benchmarks only (bench/media-forwarding.ts compares it
 * with mediasoup); the node runs mediasoup. Single-stream forwarding SFU on werift: each participant receives at most one audio and one
 * video stream (the "main" m-lines of a Pexip-style offer). Whom it receives them from depends on
 * the service type and on roles and hold (ForwardingPolicy): a VMR forwards another participant,
 * a Virtual Auditorium shows Guests only Hosts, the Test Call Service loops the caller's own media
 * back after a delay, a Virtual Reception forwards nothing; held participants get and give nothing.
 * Routes are recomputed on every change (join, publish, role/hold, leave), not per packet; a
 * viewer whose video source changes gets a keyframe requested from the new source.
 */
/** The part of ConferenceMedia the werift engine has (single-stream legs only). */
export type SingleStreamMedia = Pick<ConferenceMedia, 'createLeg' | 'setParticipant' | 'removeParticipant' | 'close'>;

export class WeriftConferenceMedia implements SingleStreamMedia {
  private readonly mode: MediaMode;
  private readonly loopbackDelayMs: number;
  private readonly legs = new Map<string, WeriftCallLeg>();
  /** participantId → kind → publisher of that kind. */
  private readonly publishers = new Map<string, Partial<Record<MediaKind, Publisher>>>();
  /** Role and hold, kept per participant id whether or not a leg exists yet. */
  private readonly states = new Map<string, MediaParticipantState>();
  /** viewer participantId → kind → source participantId. */
  private readonly routes = new Map<string, Route>();
  /** Test Call Service: participantId → the delay line replaying its own media to its leg. */
  private readonly loopbacks = new Map<string, DelayedLoopback<{ kind: MediaKind; rtp: RtpPacket }>>();
  private closed = false;

  constructor(
    private readonly opts: MediaEngineOptions,
    private readonly log: Logger,
  ) {
    this.mode = opts.mode ?? 'conference';
    this.loopbackDelayMs = opts.loopbackDelayMs ?? DEFAULT_LOOPBACK_DELAY_MS;
  }

  createLeg(participantId: string): CallLeg {
    // A new call from the same participant (e.g. reconnect) replaces the old leg; its role and
    // hold state stay. Unmap the old leg first so its 'closed' event does not remove the participant.
    const old = this.legs.get(participantId);
    if (old) {
      this.detachLeg(participantId);
      old.close('Replaced by a new call');
    }
    const leg = new WeriftCallLeg(participantId, this.opts, this.log, {
      onPublish: (kind, track, requestKeyframe) => {
        if (this.legs.get(participantId) === leg) this.publish(participantId, kind, track, requestKeyframe);
      },
      onKeyframeWanted: () => {
        if (this.legs.get(participantId) === leg) this.keyframeFor(participantId);
      },
    });
    this.legs.set(participantId, leg);
    if (this.mode === 'test_call') {
      this.loopbacks.set(participantId, new DelayedLoopback(this.loopbackDelayMs, ({ kind, rtp }) => leg.forward(kind, rtp)));
    }
    leg.on('connected', () => {
      for (const ms of KEYFRAME_RETRIES_MS) setTimeout(() => this.legs.get(participantId) === leg && this.keyframeFor(participantId), ms).unref();
    });
    leg.on('closed', () => {
      // The call ended (hang-up, ICE failure): it no longer sends nor receives. The participant's
      // role stays until the conference logic calls removeParticipant.
      if (this.legs.get(participantId) === leg) {
        this.detachLeg(participantId);
        this.updateRoutes();
      }
    });
    this.updateRoutes();
    return leg;
  }

  setParticipant(participantId: string, state: MediaParticipantState): void {
    if (this.closed) return;
    this.states.set(participantId, { role: state.role, held: state.held });
    this.updateRoutes();
  }

  removeParticipant(participantId: string): void {
    const leg = this.legs.get(participantId);
    this.detachLeg(participantId);
    this.states.delete(participantId);
    leg?.close('Participant left');
    // Whoever watched this participant now watches someone else (with a keyframe requested).
    this.updateRoutes();
  }

  close(): void {
    this.closed = true;
    const legs = [...this.legs.values()];
    for (const pid of [...this.legs.keys()]) this.detachLeg(pid);
    for (const leg of legs) leg.close('Conference ended');
    this.states.clear();
    this.routes.clear();
  }

  /** The source a viewer currently receives `kind` from (undefined: nothing). For status and tests. */
  sourceOf(viewer: string, kind: MediaKind): string | undefined {
    return this.routes.get(viewer)?.[kind];
  }

  private stateOf(participantId: string): MediaParticipantState {
    return this.states.get(participantId) ?? DEFAULT_PARTICIPANT_STATE;
  }

  /** Forgets a leg and what it published; keeps the participant's state. */
  private detachLeg(participantId: string): void {
    this.legs.delete(participantId);
    this.publishers.delete(participantId);
    this.routes.delete(participantId);
    this.loopbacks.get(participantId)?.close();
    this.loopbacks.delete(participantId);
  }

  /** Recomputes every viewer's sources; a changed source resets the viewer's RTP continuity and
   * a changed video source asks the new source for a keyframe. */
  private updateRoutes(): void {
    if (this.closed) return;
    for (const [viewer, leg] of this.legs) {
      const before = this.routes.get(viewer) ?? {};
      const after: Route = {};
      for (const kind of KINDS) {
        const publishers: { participantId: string; publishedAt: number }[] = [];
        for (const [pid, pubs] of this.publishers) {
          const p = pubs[kind];
          if (p) publishers.push({ participantId: pid, publishedAt: p.publishedAt });
        }
        const source = chooseSource({ mode: this.mode, viewer, kind, publishers, stateOf: (pid) => this.stateOf(pid) });
        if (source !== undefined) after[kind] = source;
        if (source !== before[kind]) {
          this.log.debug({ viewer, kind, from: before[kind], to: source }, 'media source changed');
          // A held viewer's queued loopback media is stale: drop it.
          if (source === undefined && this.mode === 'test_call') this.resetLoopback(viewer, leg);
          if (source !== undefined) {
            leg.sourceChanged(kind);
            if (kind === 'video') this.requestKeyframe(source);
          }
        }
      }
      this.routes.set(viewer, after);
    }
  }

  private resetLoopback(viewer: string, leg: WeriftCallLeg): void {
    this.loopbacks.get(viewer)?.close();
    this.loopbacks.set(viewer, new DelayedLoopback(this.loopbackDelayMs, ({ kind, rtp }) => leg.forward(kind, rtp)));
  }

  private keyframeFor(viewer: string): void {
    const src = this.routes.get(viewer)?.video;
    if (src !== undefined) this.requestKeyframe(src);
  }

  /** PLI to a publisher, at most once per PLI_MIN_INTERVAL_MS whatever the number of viewers. */
  private requestKeyframe(participantId: string): void {
    const pub = this.publishers.get(participantId)?.video;
    if (!pub) return;
    const now = Date.now();
    if (now - pub.lastPli < PLI_MIN_INTERVAL_MS) return;
    pub.lastPli = now;
    try {
      pub.requestKeyframe();
    } catch (err) {
      this.log.debug({ err }, 'keyframe request failed');
    }
  }

  private publish(participantId: string, kind: MediaKind, track: MediaStreamTrack, requestKeyframe: () => void): void {
    const pubs = this.publishers.get(participantId) ?? {};
    const pub: Publisher = { participantId, publishedAt: Date.now(), requestKeyframe, lastPli: 0 };
    pubs[kind] = pub;
    this.publishers.set(participantId, pubs);
    track.onReceiveRtp.subscribe((rtp) => {
      // A replaced or removed leg's track may still deliver a few packets: ignore them.
      if (this.publishers.get(participantId)?.[kind] !== pub) return;
      for (const [viewer, leg] of this.legs) {
        if (this.routes.get(viewer)?.[kind] !== participantId) continue;
        if (viewer === participantId) this.loopbacks.get(viewer)?.push({ kind, rtp: rtp.clone() });
        else leg.forward(kind, rtp);
      }
    });
    this.updateRoutes();
  }
}
