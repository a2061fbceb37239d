import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { nodeSettingsSchema, type ConferenceRecord, type LiveConference, type NodeSettings, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { ConferenceMedia, MediaParticipantState } from '../media/MediaTypes.js';
import type { BackplaneControl, BackplaneParticipant, LayoutName } from '../../shared/node-protocol/messages.js';
import type { ServiceType } from '../../shared/client-api/conference.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import type { Participant, SplashScreen } from './Participant.js';
import type { RemoteParticipant } from './remoteParticipant.js';
import { pinCallerLive, type PinCaller } from './PinCaller.js';

export interface ConferenceEvents {
  participantJoined: [Participant];
  participantUpdated: [Participant];
  participantLeft: [Participant, reason: string];
  /** The participant's splash screen changed (`null` = hide): SSE `splash_screen` to that participant. */
  splashScreen: [Participant];
  /** Conference status (`started`) changed: SSE `conference_update`. */
  statusChanged: [];
  /** Someone took the presentation floor (`presentation_start`), or nobody holds it now (`null`: `presentation_stop`). */
  presentation: [presenter: Participant | null];
  /** Spotlights changed the stage order: SSE `stage`. */
  stageChanged: [];
  /** A Host changed the layouts (`transform_layout`): SSE `layout` to everyone. */
  layoutChanged: [];
  /** The participant must re-read its token (its role changed): SSE `refresh_token` to that participant. */
  refreshToken: [Participant];
  /** The participant is moved to another conference: SSE `refer` to that participant. */
  refer: [Participant, { alias: string; token: string }];
  /** A participant on another node joined this conference's roster (a backplane), or left it. */
  remoteJoined: [RemoteParticipant];
  remoteUpdated: [RemoteParticipant];
  remoteLeft: [RemoteParticipant];
  /** A caller reached this room's PIN entry screen (listed, not a participant), or left it. */
  pinCallerJoined: [PinCaller];
  /** `admitted`: it left to join as a participant (same id), else it hung up or was disconnected. */
  pinCallerLeft: [PinCaller, admitted: boolean];
  /**
   * Meeting control for the conference's other nodes: to the backplane named (a participant there),
   * or to every backplane (null: the conference's state, its end).
   */
  shareControl: [control: BackplaneControl, backplaneId: string | null];
  /** The media of another node's participant is handled here now, or no longer. */
  hostedMediaChanged: [];
  ended: [];
}

/** Disconnect reasons, worded as the client API lists them (client-api-v2 §3). */
export const REASON = {
  waitingForHost: 'Timeout waiting for conference host to join or permit access to locked conference',
  guestsOnly: 'All conference hosts departed hosted conference',
  backstop: 'Last remaining participant removed from conference after timeout',
  testCallFinished: 'Test call finished',
  byParticipant: 'Disconnected by another participant',
  conferenceByParticipant: 'Conference terminated by another participant',
  transferred: 'Call transferred',
  /** A Host sent the `end_conference` DTMF command (theme default `##`). */
  dtmfEnd: 'Conference host ended the conference with a DTMF command',
} as const;

/**
 * Test Call Service timeline (guide §15): welcome splash while the instructions play, loopback
 * with the in-progress splash for `test_call_service_disconnect_timeout` (10 s), then the complete
 * splash and the hang-up 5 s later: about 20 s in all.
 */
export interface TestCallTimings {
  welcomeMs: number;
  inProgressMs: number;
  completeMs: number;
}
export const DEFAULT_TEST_CALL_TIMINGS: TestCallTimings = { welcomeMs: 5_000, inProgressMs: 10_000, completeMs: 5_000 };

/** What a conference needs from the node to apply its rules. */
export interface ConferenceRules {
  /** The node's current global settings (timeouts are read when a timer starts). */
  settings: () => NodeSettings;
  testCall: TestCallTimings;
  /** Drives the waiting, Guests-only, backstop and Test Call timers; default the system clock. */
  clock?: Clock;
}

const DEFAULT_RULES: ConferenceRules = { settings: () => nodeSettingsSchema.parse({}), testCall: DEFAULT_TEST_CALL_TIMINGS };

/** The client API's service type for a service (client-api-v2 §2.1 `current_service_type`). */
export function clientServiceType(service: ServiceConfig): 'conference' | 'lecture' | 'test_call' | 'ivr' {
  switch (service.serviceType) {
    case 'lecture':
      return 'lecture';
    case 'test_call':
      return 'test_call';
    case 'two_stage_dialing':
      return 'ivr';
    default:
      return 'conference';
  }
}

/** Participant state that meeting control changes (everyone is told; media follows). */
const CHANGEABLE = ['isMuted', 'isClientMuted', 'isVideoMuted', 'buzzTime', 'spotlight', 'rxPresentationDenied', 'overlayText', 'presentationInMix'] as const;
type ChangeableField = (typeof CHANGEABLE)[number];

const splash = (screen_key: string, displayMs = 0): SplashScreen => ({ screen_key, display_duration: Math.round(displayMs / 1000) });

/**
 * A conference instance: created by the first participant of a service, ended by the last one
 * leaving or by the guide's automatic-ending rules (§20.4 Guests, §24 timeouts, §15 Test Call).
 */
/** Whether a conference of `participants` is at its service's participant limit (null: unlimited). */
export function participantLimitReached(limit: number | null, participants: number): boolean {
  return limit !== null && participants >= limit;
}

export class Conference extends EventEmitter<ConferenceEvents> {
  readonly id = randomUUID();
  readonly startTime = new Date();
  private readonly members = new Map<string, Participant>();
  /** Participants served by other nodes (backplanes): listed, never served here. */
  private readonly remote = new Map<string, RemoteParticipant>();
  /** Participants another node signals whose media is handled here (media allocation): not members, but they keep the instance. */
  private readonly hosted = new Set<string>();
  /** Callers at this room's PIN entry screen on this node: listed, neither members nor counted. */
  private readonly atPin = new Map<string, PinCaller>();
  /** Per-participant timers (waiting for Host, test call steps), cleared when they leave. */
  private readonly participantTimers = new Map<string, ClockTimer[]>();
  private guestsOnlyTimer: ClockTimer | null = null;
  private backstopTimer: ClockTimer | null = null;
  private ended = false;
  /** Who holds the presentation floor (one presenter at a time; a new one takes over). */
  private presenterId: string | null = null;
  /** presentation_start goes out once the presenter's stream is live (receivers then ask for it). */
  private presentationAnnounced = false;
  private presentationFallback: NodeJS.Timeout | null = null;
  /** Locked: newcomers wait in the lobby until a Host admits them (guide §29.1). */
  locked = false;
  /** "Mute all Guests": current and future Guests are muted (guide §29.2). */
  guestsMuted: boolean;
  /** Guests may unmute themselves after an administrative mute. */
  guestsCanUnmute = false;
  /** A gateway call's conference (two legs, sip/gateway/): keys one leg sends go to the other, not to conference control. */
  gateway = false;
  /** Layouts chosen by a Host (`transform_layout`); unset = the service's Host view / Guest view. */
  layout: { host?: LayoutName; guest?: LayoutName } = {};
  /** When lock, mute-all-Guests or Guests-may-unmute last changed (Unix ms; 0: never): the newest change wins across nodes. */
  private stateChangedAt = 0;
  /** Off while a change from another node is applied: it is not sent back. */
  private sharingState = true;

  constructor(
    public service: ServiceConfig,
    readonly media: ConferenceMedia,
    private readonly rules: ConferenceRules = DEFAULT_RULES,
  ) {
    super();
    // Each SIP, dial-out and gateway call listens for its own participant's leave and transfer, and
    // removes its listeners when the call ends: a conference of many calls has many, not a leak.
    this.setMaxListeners(0);
    this.guestsMuted = service.muteAllGuests;
    media.on('presentationStream', (pid, live) => {
      if (live && pid === this.presenterId) this.announcePresentation();
    });
  }

  get participants(): Participant[] {
    return [...this.members.values()];
  }

  get size(): number {
    return this.members.size;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** `current_service_type` for the client API: held Guests are in the `waiting_room`. */
  clientServiceType(p?: Participant): ServiceType {
    return p?.held ? 'waiting_room' : clientServiceType(this.service);
  }

  /** Conference started = a Host is in, not waiting in the lobby (Guests are held until then); on this node or another. */
  get hasHost(): boolean {
    return this.participants.some((p) => p.role === 'HOST' && !p.held) || this.remoteParticipants.some((r) => r.role === 'chair' && !r.held);
  }

  /**
   * Participant limit of the service (blank = unlimited), for the conference as a whole: this
   * node's participants and other nodes': those its backplanes list, or `elsewhere` (the
   * management server's count, which comes before a backplane's list) when that is more.
   */
  isFull(elsewhere = 0): boolean {
    return participantLimitReached(this.service.participantLimit, this.members.size + Math.max(this.remote.size, elsewhere));
  }

  /** The participants of other nodes whose media this instance handles. */
  get hostedMedia(): string[] {
    return [...this.hosted];
  }

  /** Another node's participant's media starts here, in the state given. */
  hostMedia(participantId: string, state: MediaParticipantState): void {
    if (this.ended) throw new Error('conference has ended');
    this.media.setParticipant(participantId, state);
    if (this.hosted.has(participantId)) return;
    this.hosted.add(participantId);
    this.emit('hostedMediaChanged');
  }

  /** That media ended: the instance ends once it has neither participants nor hosted media. */
  releaseMedia(participantId: string): void {
    if (!this.hosted.delete(participantId)) return;
    this.media.removeParticipant(participantId);
    this.emit('hostedMediaChanged');
    if (this.members.size === 0 && this.hosted.size === 0) this.end();
  }

  /** Callers waiting at the PIN entry screen (ConferenceManager keeps the list of each room; an instance shows it). */
  get pinCallers(): PinCaller[] {
    return [...this.atPin.values()];
  }

  pinCaller(id: string): PinCaller | undefined {
    return this.members.has(id) ? undefined : this.atPin.get(id);
  }

  addPinCaller(c: PinCaller): void {
    if (this.ended || this.atPin.has(c.id)) return;
    this.atPin.set(c.id, c);
    this.emit('pinCallerJoined', c);
  }

  removePinCaller(id: string, admitted = false): void {
    const c = this.atPin.get(id);
    if (!c) return;
    this.atPin.delete(id);
    this.emit('pinCallerLeft', c, admitted);
  }

  /** Participants of this conference on other nodes. */
  get remoteParticipants(): RemoteParticipant[] {
    return [...this.remote.values()];
  }

  isRemote(participantId: string): boolean {
    return this.remote.has(participantId);
  }

  /** The whole list of participants one backplane brings (`[]` when it closes). */
  setRemoteParticipants(backplaneId: string, list: BackplaneParticipant[]): void {
    if (this.ended) return;
    const hadHost = this.hasHost;
    const ids = new Set(list.map((p) => p.id));
    for (const r of [...this.remote.values()]) {
      if (r.backplaneId !== backplaneId || ids.has(r.id)) continue;
      this.remote.delete(r.id);
      this.emit('remoteLeft', r);
    }
    for (const p of list) {
      if (this.members.has(p.id)) continue; // never shadows one of ours
      const had = this.remote.get(p.id);
      const same = (k: keyof BackplaneParticipant) => had?.[k] === p[k];
      const fields = ['displayName', 'role', 'protocol', 'isMuted', 'isClientMuted', 'isVideoMuted', 'held', 'spotlight'] as const;
      if (had && fields.every(same)) continue;
      const r: RemoteParticipant = { ...p, backplaneId, since: had?.since ?? new Date() };
      this.remote.set(p.id, r);
      this.emit(had ? 'remoteUpdated' : 'remoteJoined', r);
    }
    // One conference across nodes: a Host on another node lets this node's Guests in, and its leaving counts as a Host leaving.
    if (!hadHost && this.hasHost) this.hostArrived();
    else if (hadHost && !this.hasHost && this.members.size > 0) this.lastHostLeft();
  }

  /**
   * A Host's action on a participant of another node: sent over that participant's backplane and
   * applied there. False when no other node has this participant.
   */
  controlRemote(participantId: string, control: Extract<BackplaneControl, { kind: 'participant' | 'role' }>): boolean {
    const r = this.remote.get(participantId);
    if (!r) return false;
    this.emit('shareControl', control, r.backplaneId);
    return true;
  }

  /** The state the conference's other nodes follow: lock, mute all Guests, Guests may unmute. */
  get sharedState(): Extract<BackplaneControl, { kind: 'state' }> {
    return { kind: 'state', locked: this.locked, guestsMuted: this.guestsMuted, guestsCanUnmute: this.guestsCanUnmute, changedAt: this.stateChangedAt };
  }

  /** Another node's state, when it changed later than this node's. */
  applySharedState(state: Extract<BackplaneControl, { kind: 'state' }>): void {
    if (this.ended || state.changedAt <= this.stateChangedAt) return;
    this.sharingState = false;
    try {
      this.setLocked(state.locked);
      if (this.guestsMuted !== state.guestsMuted) this.setGuestsMuted(state.guestsMuted);
      this.setGuestsCanUnmute(state.guestsCanUnmute);
    } finally {
      this.sharingState = true;
    }
    this.stateChangedAt = state.changedAt;
  }

  private stateChanged(): void {
    if (!this.sharingState) return;
    this.stateChangedAt = Math.max(Date.now(), this.stateChangedAt + 1);
    this.emit('shareControl', this.sharedState, null);
  }

  /** A Host ends the conference: on every node it spans, then here. */
  endEverywhere(reason: string): void {
    if (this.ended) return;
    if (this.remote.size > 0) this.emit('shareControl', { kind: 'end', reason }, null);
    this.end(reason);
  }

  get(participantId: string): Participant | undefined {
    return this.members.get(participantId);
  }

  add(p: Participant): void {
    if (this.ended) throw new Error('conference has ended');
    const hostWasPresent = this.hasHost;
    // Guests only exist where the service has a Host PIN and allows Guests; they wait for a Host.
    // Locked (guide §29.1): with a Host PIN, Guests wait and Host-PIN joiners enter; without one everyone waits.
    p.lockedOut = this.locked && (p.role === 'GUEST' || this.service.pin === '');
    p.held = p.lockedOut || (p.role === 'GUEST' && !hostWasPresent);
    if (p.role === 'GUEST' && this.guestsMuted) p.isMuted = true;
    this.syncMedia(p);
    // A caller let in from the PIN entry screen keeps its id: its roster entry goes before it comes back as a participant.
    this.removePinCaller(p.id, true);
    this.members.set(p.id, p);
    this.emit('participantJoined', p);

    if (p.held) {
      this.setSplash(p, splash('waiting_for_host'));
      // Timed per participant (guide §20.4); 0 = disconnect at once.
      this.later(p, this.rules.settings().waitingForHostTimeout * 1000, () => this.remove(p.id, REASON.waitingForHost));
    }
    if (p.role === 'HOST' && !hostWasPresent && !p.held) this.hostArrived();
    if (this.service.serviceType === 'test_call') this.runTestCall(p);
    this.checkBackstop();
  }

  updated(p: Participant): void {
    if (this.members.has(p.id)) this.emit('participantUpdated', p);
  }

  remove(participantId: string, reason: string): void {
    const p = this.members.get(participantId);
    if (!p) return;
    this.members.delete(participantId);
    for (const t of this.participantTimers.get(participantId) ?? []) this.clock.clearTimeout(t);
    this.participantTimers.delete(participantId);
    p.leg?.close(reason);
    p.leg = null;
    p.remoteSession?.close();
    p.remoteSession = null;
    if (this.presenterId === participantId) {
      this.presenterId = null;
      this.endPresentation();
    }
    this.media.removeParticipant(participantId);
    this.emit('participantLeft', p, reason);
    if (this.members.size === 0 && this.hosted.size === 0) return this.end();
    if (this.ended) return;
    if (p.role === 'HOST' && !p.held && !this.hasHost) this.lastHostLeft();
    this.checkBackstop();
  }

  end(reason = 'Conference ended'): void {
    if (this.ended) return;
    // Marked first: removing the last participant below must not end the conference twice.
    this.ended = true;
    this.clearConferenceTimers();
    for (const p of this.participants) this.remove(p.id, reason);
    this.hosted.clear();
    this.media.close();
    this.emit('ended');
  }

  /** Who holds the presentation floor. */
  get presenter(): Participant | null {
    return this.presenterId === null ? null : (this.members.get(this.presenterId) ?? null);
  }

  /** The presenter once presentation_start went out (their stream is live). */
  get announcedPresenter(): Participant | null {
    return this.presentationAnnounced ? this.presenter : null;
  }

  /**
   * Pexip's `take_floor`: the participant becomes the presenter; whoever presented before stops
   * (their screen stream is closed). Guests only when the service lets Guests present.
   */
  takeFloor(p: Participant): 'ok' | 'not_allowed' {
    if (!this.members.has(p.id) || p.held) return 'not_allowed';
    if (p.role === 'GUEST' && !this.service.guestsCanPresent) return 'not_allowed';
    const previous = this.presenterId;
    this.presenterId = p.id;
    if (previous === p.id) return 'ok';
    if (previous !== null) {
      this.media.stopPresentation(previous);
      this.members.get(previous)?.remoteSession?.stopPresentation();
    }
    this.presentationAnnounced = false;
    if (this.presentationFallback) clearTimeout(this.presentationFallback);
    // Single-stream clients ask for the presentation when told it started: tell them once the
    // stream is there (at most 3 s after the floor was taken, whatever happens).
    if (this.media.hasPresentationStream(p.id)) this.announcePresentation();
    else this.presentationFallback = setTimeout(() => this.announcePresentation(), 3_000).unref();
    return 'ok';
  }

  private announcePresentation(): void {
    if (this.presentationFallback) clearTimeout(this.presentationFallback);
    this.presentationFallback = null;
    const presenter = this.presenter;
    if (!presenter || this.presentationAnnounced) return;
    this.presentationAnnounced = true;
    this.emit('presentation', presenter);
  }

  /** Pexip's `release_floor` (or the presenter left): the presentation stops. */
  releaseFloor(p: Participant): void {
    if (this.presenterId !== p.id) return;
    this.presenterId = null;
    this.media.stopPresentation(p.id);
    p.remoteSession?.stopPresentation();
    this.endPresentation();
  }

  private endPresentation(): void {
    if (this.presentationFallback) clearTimeout(this.presentationFallback);
    this.presentationFallback = null;
    const announced = this.presentationAnnounced;
    this.presentationAnnounced = false;
    if (announced) this.emit('presentation', null);
  }

  /** Sets the splash screen a participant sees (`null` hides it). */
  setSplash(p: Participant, screen: SplashScreen | null): void {
    p.splash = screen;
    this.emit('splashScreen', p);
  }

  private syncMedia(p: Participant): void {
    this.media.setParticipant(p.id, {
      role: p.role === 'HOST' ? 'host' : 'guest',
      held: p.held,
      muted: p.isMuted,
      videoMuted: p.isVideoMuted,
      spotlight: p.spotlight,
      rxPresentationDenied: p.rxPresentationDenied,
    });
  }

  // --- meeting control (guide §29; who may do what is checked in ConferenceControl)

  setLocked(locked: boolean): void {
    if (this.locked === locked) return;
    this.locked = locked;
    this.stateChanged();
    this.emit('statusChanged');
    // Unlocking admits everyone still waiting (guide §29.1).
    if (!locked) for (const p of this.participants) if (p.lockedOut) this.release(p);
  }

  /** Admits one participant from the lobby (participant `unlock`). */
  admit(p: Participant): void {
    if (p.held) this.release(p);
  }

  /** `start_conference`: lets in everyone waiting. */
  admitAll(): void {
    for (const p of this.participants) if (p.held) this.release(p);
  }

  /** Mute all Guests (and those who join later), or unmute them all. */
  setGuestsMuted(muted: boolean): void {
    this.guestsMuted = muted;
    this.stateChanged();
    for (const p of this.participants) if (p.role === 'GUEST') this.change(p, { isMuted: muted });
    this.emit('statusChanged');
  }

  setGuestsCanUnmute(setting: boolean): void {
    if (this.guestsCanUnmute === setting) return;
    this.guestsCanUnmute = setting;
    this.stateChanged();
    this.emit('statusChanged');
  }

  /** Changes participant state; media follows, everyone gets `participant_update` (only when something changed). */
  change(p: Participant, patch: Partial<Pick<Participant, ChangeableField>>): void {
    const state = () => JSON.stringify(CHANGEABLE.map((k) => p[k]));
    const before = state();
    Object.assign(p, patch);
    if (state() === before) return;
    this.syncMedia(p);
    this.updated(p);
    if (patch.spotlight !== undefined) this.emit('stageChanged');
  }

  clearAllBuzz(): void {
    for (const p of this.participants) this.change(p, { buzzTime: 0 });
  }

  /** Makes a participant Host or Guest; the last Host leaving the Host role counts as the last Host leaving. */
  setRole(p: Participant, role: Participant['role']): void {
    if (p.role === role) return;
    const hadHost = this.hasHost;
    p.role = role;
    if (role === 'HOST' && p.held && !p.lockedOut) this.release(p);
    // A new Guest in a meeting whose Guests are muted is muted too.
    if (role === 'GUEST' && this.guestsMuted) p.isMuted = true;
    this.syncMedia(p);
    this.updated(p);
    this.emit('refreshToken', p);
    if (role === 'HOST' && !hadHost && !p.held) this.hostArrived();
    else if (role === 'GUEST' && hadHost && !this.hasHost) this.lastHostLeft();
    this.emit('statusChanged');
  }

  /** `transform_layout`: Host and Guest layouts (one `layout` sets both). */
  setLayout(layout: { host?: LayoutName; guest?: LayoutName }): void {
    this.layout = { ...this.layout, ...layout };
    this.emit('layoutChanged');
  }

  /** The layout a participant's role sees now. */
  layoutFor(p: Participant): LayoutName {
    return p.role === 'HOST' ? (this.layout.host ?? this.service.hostView) : (this.layout.guest ?? this.service.guestView);
  }

  /** Tells the participant to join another conference with a one-time token, then lets them go. */
  refer(p: Participant, alias: string, token: string, graceMs = 10_000): void {
    this.emit('refer', p, { alias, token });
    this.later(p, graceMs, () => this.remove(p.id, REASON.transferred));
  }

  /** The stage with spotlit participants first (earliest spotlight first), then the speaker order. */
  stageOrder(stage: { participantId: string; speaking: boolean }[]): { participantId: string; speaking: boolean }[] {
    const spot = (id: string) => this.members.get(id)?.spotlight ?? 0;
    const spotlit = stage.filter((s) => spot(s.participantId) > 0).sort((a, b) => spot(a.participantId) - spot(b.participantId));
    return [...spotlit, ...stage.filter((s) => spot(s.participantId) === 0)];
  }

  /** The first Host releases every held Guest and cancels the Guests-only countdown. */
  private hostArrived(): void {
    this.clearTimer('guestsOnlyTimer');
    for (const g of this.participants) if (g.held && !g.lockedOut) this.release(g);
    this.emit('statusChanged');
  }

  /** Lets a held participant into the conference (a Host arrived, admit, unlock). */
  private release(g: Participant): void {
    const wasHost = this.hasHost;
    g.held = false;
    g.lockedOut = false;
    for (const t of this.participantTimers.get(g.id) ?? []) this.clock.clearTimeout(t);
    this.participantTimers.delete(g.id);
    this.syncMedia(g);
    this.setSplash(g, null);
    this.emit('participantUpdated', g);
    if (g.role === 'HOST' && !wasHost) this.hostArrived();
  }

  /** Guide §24.1: only Guests remain; the conference ends after the Guests-only timeout (0 = now). */
  private lastHostLeft(): void {
    this.emit('statusChanged');
    const ms = this.rules.settings().guestsOnlyTimeout * 1000;
    if (ms === 0) return this.end(REASON.guestsOnly);
    this.clearTimer('guestsOnlyTimer');
    this.guestsOnlyTimer = this.clock.setTimeout(() => this.end(REASON.guestsOnly), ms).unref();
  }

  /** Guide §24.2: exactly one participant left for the backstop timeout (0 = never) ends it. */
  private checkBackstop(): void {
    const seconds = this.rules.settings().lastParticipantBackstopTimeout;
    // The Test Call Service and Virtual Receptions hang up on their own: the rule is for conferences.
    const applies = this.service.serviceType === 'conference' || this.service.serviceType === 'lecture';
    if (this.ended || !applies || seconds === 0 || this.members.size !== 1) return this.clearTimer('backstopTimer');
    if (this.backstopTimer) return;
    this.backstopTimer = this.clock.setTimeout(() => this.end(REASON.backstop), seconds * 1000).unref();
  }

  /** Guide §15 sequence for one caller: welcome, in progress (loopback), complete, hang-up. */
  private runTestCall(p: Participant): void {
    const t = this.rules.testCall;
    this.setSplash(p, splash('test_call_welcome', t.welcomeMs));
    this.later(p, t.welcomeMs, () => this.setSplash(p, splash('test_call_in_progress', t.inProgressMs)));
    this.later(p, t.welcomeMs + t.inProgressMs, () => this.setSplash(p, splash('test_call_complete', t.completeMs)));
    this.later(p, t.welcomeMs + t.inProgressMs + t.completeMs, () => this.remove(p.id, REASON.testCallFinished));
  }

  private get clock(): Clock {
    return this.rules.clock ?? systemClock;
  }

  private later(p: Participant, ms: number, fn: () => void): void {
    const timer = this.clock
      .setTimeout(() => {
        if (this.members.get(p.id) === p) fn();
      }, ms)
      .unref();
    const list = this.participantTimers.get(p.id) ?? [];
    list.push(timer);
    this.participantTimers.set(p.id, list);
  }

  private clearTimer(which: 'guestsOnlyTimer' | 'backstopTimer'): void {
    this.clock.clearTimeout(this[which]);
    this[which] = null;
  }

  private clearConferenceTimers(): void {
    this.clearTimer('guestsOnlyTimer');
    this.clearTimer('backstopTimer');
  }

  /** What a history record names of this instance. */
  toRecord(): ConferenceRecord {
    return { name: this.service.name, serviceType: this.service.serviceType, tag: this.service.tag, startTime: this.startTime.toISOString() };
  }

  toLive(node: string): LiveConference {
    return {
      id: this.id,
      name: this.service.name,
      serviceType: this.service.serviceType,
      startTime: this.startTime.toISOString(),
      participants: [...this.participants.map((p) => p.toLive(node, p.id === this.presenterId)), ...this.pinCallers.map((c) => pinCallerLive(c, node))],
      activeSpeaker: null, // NodeAgent fills it in from the media stage (management/ActiveSpeaker.ts)
      ...(this.hosted.size > 0 ? { hostedMedia: [...this.hosted] } : {}),
      isLocked: this.locked,
      guestsMuted: this.guestsMuted,
      tag: this.service.tag,
    };
  }
}
