import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { decideRole, type Role } from '../../shared/conference/pinCheck.js';
import {
  nodeSettingsSchema,
  type LiveConference,
  type LocationConfig,
  type NodeConfigSnapshot,
  type NodeSettings,
  type ServiceConfig,
} from '../../shared/node-protocol/messages.js';
import type { ConferenceMedia, MediaMode } from '../media/MediaTypes.js';
import { BreakInResistance, DEFAULT_POLICY, type JoinAttempt } from './BreakInResistance.js';
import { ConferenceControl } from './ConferenceControl.js';
import { Conference, DEFAULT_TEST_CALL_TIMINGS, participantLimitReached, type TestCallTimings } from './Conference.js';
import { Participant, type ParticipantInit } from './Participant.js';
import type { PinCaller } from './PinCaller.js';
import { ServiceDirectory } from './ServiceDirectory.js';
import { ServicePolicy, type PolicyRoute } from './ServicePolicy.js';
import { TransferTokens } from './TransferTokens.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import type { CallKind } from '../../shared/platform/mediaAllocation.js';
import type { MediaAdmission } from '../allocation/MediaAdmission.js';
import type { RemoteLegs } from '../media/remote/RemoteLegs.js';

export interface ConferenceManagerEvents {
  conferenceStarted: [Conference];
  conferenceEnded: [Conference];
  participantJoined: [Conference, Participant];
  participantLeft: [Conference, Participant, reason: string];
}

export type JoinResult =
  | {
      kind: 'joined';
      conference: Conference;
      participant: Participant;
      token: string;
      /** Media allocation put the call's media on this other node (its tokens are held there). */
      mediaNode?: { id: number; name: string };
      /** And this proxying node relays it (a call to a proxying edge node). */
      proxyNode?: { id: number; name: string };
    }
  | { kind: 'not_found' }
  | { kind: 'pin_required'; hostPin: boolean; guestPin: boolean }
  | { kind: 'invalid_pin' }
  | { kind: 'full' }
  | { kind: 'maintenance' }
  /** No node can take the call's media (guide: "Resource unavailable"). */
  | { kind: 'no_capacity'; reason: string };

/** How a new conference instance's media is set up, from its service and the global settings. */
export interface MediaSetup {
  mode: MediaMode;
  portRange: [number, number];
}

export interface ConferenceManagerOptions {
  /** A local media port range that overrides the global setting (several nodes on one host, tests). */
  mediaPortRange?: [number, number];
  /** Test Call Service timeline; tests shorten it. */
  testCallTimings?: Partial<TestCallTimings>;
  /** External policy server timeout (default 5 s); tests shorten it. */
  policyTimeoutMs?: number;
  /** Drives the conferences' timeouts (waiting for a Host, Guests-only, backstop, Test Call) and the tokens' lifetime; default the system clock. */
  clock?: Clock;
}

/** Media mode per service type (MediaTypes.ts). */
const MEDIA_MODE: Record<ServiceConfig['serviceType'], MediaMode> = {
  conference: 'conference',
  lecture: 'lecture',
  test_call: 'test_call',
  two_stage_dialing: 'reception',
};

export interface JoinRequest extends Omit<ParticipantInit, 'role'> {
  pin: string | undefined;
  /** Where service configuration policy sent the call (ServicePolicy.resolve); unset = the node's own configuration. */
  route?: PolicyRoute;
  /** The role a Host's transfer granted (TransferTokens): no PIN is asked. */
  grantedRole?: Role;
  /** The call this join brings (capacity is checked for it); default HD, the guide's default call quality. */
  call?: CallKind;
  /** The call starts with the join (SIP): its media tokens are held from now on. */
  holdMedia?: boolean;
  /** A SIP call whose media may go to another node (an offer to answer there). */
  remoteMedia?: boolean;
  /** A SIP call from PIN entry whose media is already on this other node: it stays there (nothing to admit here). */
  mediaPlaced?: { id: number; name: string };
}

/** Every conference instance on this node, the alias lookup and the client API tokens. */
export class ConferenceManager extends EventEmitter<ConferenceManagerEvents> {
  readonly directory = new ServiceDirectory();
  /** One-time tokens of transferred callers (Virtual Reception `refer`). */
  readonly transfers = new TransferTokens();
  /** PIN brute force and VOIP scanner resistance (BreakInResistance.ts). */
  readonly breakIn: BreakInResistance;
  /** Service configuration policy of the location's policy profile (ServicePolicy.ts). */
  readonly policy: ServicePolicy;
  /** Meeting control: who may lock, mute, transfer… (ConferenceControl.ts). */
  readonly control: ConferenceControl;
  private readonly instances = new Map<number, Conference>();
  /** Service id → callers at its PIN entry screen on this node, by id. */
  private readonly pinCallers = new Map<number, Map<string, PinCaller>>();
  /** Each Test Call Service caller has an instance of their own (their media is looped back). */
  private readonly testCalls = new Set<Conference>();
  /** The parts of the configuration snapshot the node acts on besides services. */
  node: NodeConfigSnapshot['node'] | null = null;
  location: LocationConfig | null = null;
  settings: NodeSettings = nodeSettingsSchema.parse({});
  /** Calls whose media media allocation puts on another node (media/remote/RemoteLegs.ts); none: media stays here. */
  remoteLegs: RemoteLegs | null = null;
  /** Capacity and media allocation at join (MediaAdmission.ts); none: every call is taken. */
  admission: MediaAdmission | null = null;
  private readonly testCallTimings: TestCallTimings;
  private readonly tokens = new Map<string, { conference: Conference; participant: Participant }>();
  private readonly sweeper: ClockTimer;
  /** The conferences' clock, also PIN entry's timeout (sip/SipCalls.ts). */
  readonly clock: Clock;

  constructor(
    private readonly createMedia: (service: ServiceConfig, setup: MediaSetup) => ConferenceMedia,
    readonly nodeName: string,
    private readonly log: Logger,
    private readonly options: ConferenceManagerOptions = {},
  ) {
    super();
    this.testCallTimings = { ...DEFAULT_TEST_CALL_TIMINGS, ...options.testCallTimings };
    this.breakIn = new BreakInResistance(log);
    this.policy = new ServicePolicy({
      directory: this.directory,
      profile: () => this.location?.policyProfile ?? null,
      location: () => this.node?.systemLocation ?? this.location?.name ?? null,
      log: log.child({ part: 'policy' }),
      timeoutMs: options.policyTimeoutMs,
    });
    this.control = new ConferenceControl(this, log.child({ part: 'control' }));
    this.clock = options.clock ?? systemClock;
    this.sweeper = this.clock.setInterval(() => this.expireTokens(), 1_000).unref();
  }

  applyConfig(snapshot: NodeConfigSnapshot): void {
    this.directory.load(snapshot);
    // A snapshot cached before these existed lacks them: fall back to the guide's defaults.
    this.node = snapshot.node;
    this.location = snapshot.location ?? null;
    this.settings = nodeSettingsSchema.parse(snapshot.settings ?? {});
    // The location's switches (the global ones unless it overrides them); no location: the guide's defaults.
    this.breakIn.configure({
      pinBruteForceResistance: this.location?.pinBruteForceResistance ?? DEFAULT_POLICY.pinBruteForceResistance,
      voipScannerResistance: this.location?.voipScannerResistance ?? DEFAULT_POLICY.voipScannerResistance,
      maxPinFailuresPerWindow: this.settings.maxPinFailuresPerWindow,
      maxScanAttemptsPerWindow: this.settings.maxScanAttemptsPerWindow,
    });
    for (const [serviceId, conf] of this.instances) {
      const service = this.directory.byServiceId(serviceId);
      if (service) conf.service = service;
    }
  }

  /** Guide: a node in maintenance mode takes no new calls; conferences in progress continue. */
  get maintenanceMode(): boolean {
    return this.node?.maintenanceMode ?? false;
  }

  /** Per-service "Enable chat", else the global setting. */
  chatEnabled(service: ServiceConfig): boolean {
    return service.chatEnabled ?? this.settings.chatEnabled;
  }

  /** The service's Media encryption, else the global one. */
  cryptoMode(service: ServiceConfig): 'besteffort' | 'on' | 'off' {
    return service.cryptoMode ?? this.settings.cryptoMode;
  }

  /** Places gateway calls for a matched Call Routing Rule (sip/gateway/GatewayCalls.ts); unset on a node without SIP. */
  gateway: ((req: JoinRequest, route: Extract<PolicyRoute, { kind: 'gateway' }>) => JoinResult) | null = null;

  /** Per conference (service name), the participants other nodes signal, as the management server last relayed them. */
  private participantsElsewhere = new Map<string, number>();

  /**
   * The platform's participants per node (the management server's `platform_load`): a conference's
   * participant limit counts other nodes' participants before any backplane lists them (a node's
   * first caller), and while a backplane is still bringing its list.
   */
  setPlatformParticipants(nodes: { id: number; participants?: { conference: string; count: number }[] }[]): void {
    const elsewhere = new Map<string, number>();
    for (const n of nodes) {
      if (n.id === this.node?.id) continue;
      for (const c of n.participants ?? []) elsewhere.set(c.conference, (elsewhere.get(c.conference) ?? 0) + c.count);
    }
    this.participantsElsewhere = elsewhere;
  }

  join(req: JoinRequest): JoinResult {
    if (this.maintenanceMode) return { kind: 'maintenance' };
    // Break-in resistance: a quarantined address, or a service under PIN attack, looks like an unknown alias.
    const attempt: JoinAttempt = { alias: req.alias, participant: req.displayName, protocol: req.protocol, remoteAddress: req.remoteAddress };
    if (this.breakIn.rejectQuarantined(attempt)) return { kind: 'not_found' };
    // The guide's incoming-call order: service aliases, then Call Routing Rules.
    const route =
      req.route ??
      this.directory.route(req.alias, { direction: 'incoming', protocol: 'webrtc', location: this.node?.systemLocation ?? null, registered: false });
    if (route.kind === 'gateway') {
      if (this.gateway) return this.gateway(req, route);
      this.log.info(
        { alias: req.alias, rule: route.rule.name, destination: route.destination },
        'Call Routing Rule matched, but this node cannot place gateway calls yet',
      );
      return { kind: 'not_found' };
    }
    if (route.kind === 'none') {
      this.breakIn.unknownAlias(attempt);
      return { kind: 'not_found' };
    }
    if (route.kind === 'reject') return { kind: 'not_found' };
    const service = route.service;
    if (this.breakIn.rejectBlockedService(service, attempt)) return { kind: 'not_found' };
    const decision = req.grantedRole
      ? ({ kind: 'admit', role: req.grantedRole } as const)
      : decideRole({ pin: service.pin, guestPin: service.guestPin, allowGuests: service.allowGuests }, req.pin);
    if (decision.kind === 'pin_required') return decision;
    if (decision.kind === 'invalid_pin') {
      this.breakIn.pinFailure(service, attempt);
      return decision;
    }
    let conference = service.serviceType === 'test_call' ? undefined : this.instances.get(service.id);
    const elsewhere = this.participantsElsewhere.get(service.name) ?? 0;
    if (conference ? conference.isFull(elsewhere) : participantLimitReached(service.participantLimit, elsewhere)) return { kind: 'full' };
    const call = req.call ?? 'hd';
    // A WebRTC call's media may go to another node (its call start decides); a SIP call's where it asks to (an offer, no relay).
    const sip = req.protocol === 'sip';
    const admitted = req.mediaPlaced
      ? undefined
      : this.admission?.admit({
          conference: service.name,
          call,
          hostsHere: conference !== undefined,
          remoteMedia: !sip || req.remoteMedia === true,
        });
    if (admitted && !admitted.ok) return { kind: 'no_capacity', reason: admitted.reason };
    const mediaNode = req.mediaPlaced ?? (sip && admitted?.ok ? admitted.mediaNode : undefined);
    const proxyNode = mediaNode && admitted?.ok ? admitted.proxyNode : undefined;
    if (!conference) conference = this.start(service);
    const participant = new Participant({ ...req, role: decision.role });
    // The call's tokens count where its media is: here, or on this proxying node that relays it.
    if (req.holdMedia && (!mediaNode || (proxyNode && proxyNode.id === this.node?.id))) this.admission?.hold(participant.id, call);
    const token = participant.issueToken(this.clock.now());
    this.tokens.set(token, { conference, participant });
    conference.add(participant);
    return { kind: 'joined', conference, participant, token, ...(mediaNode ? { mediaNode, ...(proxyNode ? { proxyNode } : {}) } : {}) };
  }

  /**
   * The instance of a service for a call another node signals whose media media allocation put
   * here (media/remote/RemoteLegs.ts): started if need be. None in maintenance mode, or for a
   * service that does not span nodes.
   */
  instanceForMedia(serviceName: string): Conference | undefined {
    if (this.maintenanceMode) return undefined;
    const service = this.directory.byName(serviceName);
    if (!service || (service.serviceType !== 'conference' && service.serviceType !== 'lecture')) return undefined;
    return this.instances.get(service.id) ?? this.start(service);
  }

  /**
   * Media for a call that is not in a conference yet (a SIP caller at PIN entry): it forwards
   * nothing, and whoever asked closes it. The conference's own media is made when the caller joins.
   */
  ivrMedia(service: ServiceConfig): ConferenceMedia {
    return this.createMedia(service, { mode: 'reception', portRange: this.options.mediaPortRange ?? this.settings.mediaPorts });
  }

  private start(service: ServiceConfig): Conference {
    // Media settings apply to instances started from now on.
    const media = this.createMedia(service, { mode: MEDIA_MODE[service.serviceType], portRange: this.options.mediaPortRange ?? this.settings.mediaPorts });
    const conference = new Conference(service, media, {
      settings: () => this.settings,
      testCall: this.testCallTimings,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
    if (service.serviceType === 'test_call') this.testCalls.add(conference);
    else this.instances.set(service.id, conference);
    // Callers already at the room's PIN entry screen are in its roster from the start.
    for (const c of this.pinCallers.get(service.id)?.values() ?? []) conference.addPinCaller(c);
    conference.on('participantJoined', (p) => this.emit('participantJoined', conference, p));
    conference.on('participantLeft', (p, reason) => {
      for (const t of p.tokens) this.tokens.delete(t);
      this.control.forget(p.id);
      this.emit('participantLeft', conference, p, reason);
    });
    conference.on('ended', () => {
      if (this.instances.get(service.id) === conference) this.instances.delete(service.id);
      this.testCalls.delete(conference);
      this.log.info({ conference: service.name }, 'conference instance ended');
      this.emit('conferenceEnded', conference);
    });
    this.log.info({ conference: service.name }, 'conference instance started');
    this.emit('conferenceStarted', conference);
    return conference;
  }

  /** A caller reached a room's PIN entry screen: listed in its instance's roster (now, or when it starts). */
  addPinCaller(c: PinCaller): void {
    let callers = this.pinCallers.get(c.serviceId);
    if (!callers) this.pinCallers.set(c.serviceId, (callers = new Map()));
    callers.set(c.id, c);
    this.instances.get(c.serviceId)?.addPinCaller(c);
  }

  /** It left the PIN entry screen (let in, hung up, timed out). */
  removePinCaller(c: PinCaller): void {
    const callers = this.pinCallers.get(c.serviceId);
    if (callers?.get(c.id) !== c) return;
    callers.delete(c.id);
    if (callers.size === 0) this.pinCallers.delete(c.serviceId);
    this.instances.get(c.serviceId)?.removePinCaller(c.id);
  }

  byToken(token: string | undefined): { conference: Conference; participant: Participant } | undefined {
    if (!token) return undefined;
    const entry = this.tokens.get(token);
    if (!entry || entry.participant.tokenExpiresAt < this.clock.now()) return undefined;
    return entry;
  }

  refreshToken(conference: Conference, participant: Participant): string {
    const dropped = participant.tokens[1];
    if (dropped) this.tokens.delete(dropped);
    const token = participant.issueToken(this.clock.now());
    this.tokens.set(token, { conference, participant });
    return token;
  }

  private expireTokens(): void {
    const now = this.clock.now();
    for (const conf of this.conferences()) {
      for (const p of conf.participants) {
        if (p.tokenExpiresAt < now) conf.remove(p.id, 'Timer expired awaiting token refresh');
      }
    }
  }

  conferences(): Conference[] {
    return [...this.instances.values(), ...this.testCalls];
  }

  liveStatus(): LiveConference[] {
    return this.conferences().map((c) => c.toLive(this.nodeName));
  }

  close(): void {
    this.clock.clearInterval(this.sweeper);
    for (const c of this.conferences()) c.end('Conferencing node shutting down');
  }
}
