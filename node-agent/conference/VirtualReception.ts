import type { Logger } from 'pino';
import { z } from 'zod';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { CallContext } from '../../shared/routing/callRouting.js';
import { expandReplacement, fullMatch, PythonRegexError } from '../../shared/routing/pythonRegex.js';
import type { Conference } from './Conference.js';
import type { ConferenceManager } from './ConferenceManager.js';
import type { Participant, SplashScreen } from './Participant.js';
import type { ServiceDirectory } from './ServiceDirectory.js';
import type { PolicyRoute } from './ServicePolicy.js';
import type { TransferTokens } from './TransferTokens.js';

/**
 * Virtual Reception (IVR, service_type `two_stage_dialing`; guide-digest-2 §11–12): callers enter
 * the alias of a VMR / Virtual Auditorium with DTMF and '#', and are transferred there. For client
 * API callers the transfer is an SSE `refer` carrying a one-time token (client-api-v2 §5).
 */

/** DTMF body of `…/participants/{p}/dtmf` and `…/calls/{c}/dtmf` (client-api-v2 §4, §7). */
export const dtmfBody = z.object({ digits: z.string().regex(/^[0-9*#A-D]{1,32}$/, 'digits must be 1–32 of 0-9 * # A-D') });

/** Splash screen keys of the theme (guide-digest-3 §1.7) that a Virtual Reception shows. */
export const RECEPTION_SCREENS = {
  welcome: 'virtual_reception_welcome',
  entry: 'virtual_reception_conference_id_entry',
  invalid: 'virtual_reception_conference_id_invalid',
  connecting: 'virtual_reception_connecting',
  timeout: 'timeout',
} as const;

/** Invalid entries before the caller is disconnected (like PIN entry: 3 attempts). */
export const MAX_INVALID_ENTRIES = 3;
/** Disconnect reason after too many invalid entries (client-api-v2 §3, #pex154). */
export const REASON_NOT_FOUND = 'Neither conference nor gateway found';
/** Disconnect reason for the reception leg once the caller has been referred on. */
export const REASON_TRANSFERRED = 'Call transferred';
/** Longest entry kept; further digits before '#' are ignored (the entry is then invalid anyway). */
const MAX_ENTRY_LENGTH = 64;

/**
 * The destination alias for what the caller entered (guide §12): a blank match string allows any
 * alias unchanged; otherwise the alias must fully match (case-insensitive), and the replace string,
 * if any, then rewrites it. null = not allowed (or an invalid regex, which never matches).
 */
export function destinationAlias(matchString: string, replaceString: string, entered: string): string | null {
  if (matchString === '') return entered;
  try {
    const match = fullMatch(matchString, entered);
    if (!match) return null;
    return replaceString === '' ? entered : expandReplacement(replaceString, match);
  } catch (e) {
    if (e instanceof PythonRegexError) return null;
    throw e;
  }
}

export type EntryOutcome = { kind: 'transfer'; service: ServiceConfig; alias: string } | { kind: 'invalid'; alias: string | null; why: string };

/**
 * Where an entry goes: through the destination regex, then as a new incoming call (§11: service
 * aliases first, then Call Routing Rules). Gateway calls cannot be placed by nodes yet, so a rule
 * match is an invalid entry too, as is the reception itself.
 */
export function resolveEntry(reception: ServiceConfig, entered: string, directory: ServiceDirectory, call: CallContext, routed?: PolicyRoute): EntryOutcome {
  const alias = destinationAlias(reception.matchString, reception.replaceString, entered);
  if (alias === null || alias.trim() === '') return { kind: 'invalid', alias, why: 'entered alias not allowed by the destination alias regex' };
  // `routed`: where service configuration policy sent the destination alias (ServicePolicy.ts).
  const route = routed ?? directory.route(alias, call);
  if (route.kind === 'reject') return { kind: 'invalid', alias, why: 'rejected by service configuration policy' };
  if (route.kind === 'service') {
    if (route.service.id === reception.id) return { kind: 'invalid', alias, why: 'the alias is this Virtual Reception' };
    return { kind: 'transfer', service: route.service, alias };
  }
  if (route.kind === 'gateway')
    return { kind: 'invalid', alias, why: `Call Routing Rule "${route.rule.name}" matched, but gateway calls are not available on this node` };
  return { kind: 'invalid', alias, why: 'no service or Call Routing Rule matches' };
}

/** DTMF digits as they arrive: '#' completes an entry. */
export class DigitEntry {
  private buffer = '';

  /** Adds digits; returns the entries completed by '#', in order. */
  press(digits: string): string[] {
    const done: string[] = [];
    for (const d of digits) {
      if (d === '#') {
        done.push(this.buffer);
        this.buffer = '';
      } else if (this.buffer.length < MAX_ENTRY_LENGTH) {
        this.buffer += d;
      }
    }
    return done;
  }

  get pending(): string {
    return this.buffer;
  }
}

/** A `splash_screen` payload (Participant.ts) with the theme's label variables. */
export interface ReceptionSplash extends SplashScreen {
  /** `{conference_id}`: the digits being entered (on the entry screen only). */
  conference_id?: string;
  /** `{conference_name}`: the destination (on the connecting screen). */
  conference_name?: string;
}

/** Where the `refer` goes: the participant's SSE stream(s). */
export interface ReceptionOutput {
  sendTo(conf: Conference, participantId: string, event: string, data: unknown): void;
}

export interface ReceptionTimings {
  /** How long the invalid screen shows before the welcome screen returns. */
  invalidScreenMs: number;
  /** How long the timeout screen shows before the disconnect. */
  timeoutScreenMs: number;
  /** How long the reception leg stays after `refer` (the client normally leaves at once). */
  transferGraceMs: number;
}

export const DEFAULT_RECEPTION_TIMINGS: ReceptionTimings = { invalidScreenMs: 2_000, timeoutScreenMs: 2_000, transferGraceMs: 3_000 };

interface Session {
  conference: Conference;
  participant: Participant;
  digits: DigitEntry;
  invalid: number;
  /** No more entries once transferring or disconnecting. */
  finished: boolean;
  timer: NodeJS.Timeout | null;
  /** Entries waiting for service configuration policy, handled in order. */
  queue: Promise<void>;
}

const splash = (screen_key: string, displayMs = 0, extra: Partial<ReceptionSplash> = {}): ReceptionSplash => ({
  screen_key,
  display_duration: Math.round(displayMs / 1000),
  ...extra,
});

/** The callers currently in Virtual Receptions on this node. */
export class VirtualReceptions {
  private readonly sessions = new Map<string, Session>();
  private readonly timings: ReceptionTimings;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly transfers: TransferTokens,
    private readonly output: ReceptionOutput,
    private readonly log: Logger,
    /** The node's system location (Call Routing Rules may be restricted to one). */
    private readonly location: () => string | null = () => null,
    timings: Partial<ReceptionTimings> = {},
  ) {
    this.timings = { ...DEFAULT_RECEPTION_TIMINGS, ...timings };
    manager.on('participantJoined', (conf, p) => {
      if (conf.service.serviceType === 'two_stage_dialing') this.admit(conf, p);
    });
    manager.on('participantLeft', (_conf, p) => this.forget(p.id));
  }

  isInReception(participantId: string): boolean {
    return this.sessions.has(participantId);
  }

  /** DTMF from a caller. Outside a Virtual Reception it is accepted and ignored. */
  dtmf(conf: Conference, p: Participant, digits: string): void {
    const s = this.sessions.get(p.id);
    if (!s || s.conference !== conf || s.finished) return;
    this.clearTimer(s);
    const entries = s.digits.press(digits);
    // With a policy profile, each entry's destination is resolved by policy first (asynchronously, in order).
    if (this.manager.policy.active) {
      for (const entered of entries) s.queue = s.queue.then(() => this.submitWithPolicy(s, entered));
    } else {
      for (const entered of entries) {
        this.submit(s, entered);
        if (s.finished) return;
      }
    }
    if (s.digits.pending !== '') this.show(s, splash(RECEPTION_SCREENS.entry, 0, { conference_id: s.digits.pending }));
  }

  private admit(conf: Conference, p: Participant): void {
    const s: Session = { conference: conf, participant: p, digits: new DigitEntry(), invalid: 0, finished: false, timer: null, queue: Promise.resolve() };
    this.sessions.set(p.id, s);
    // Shown when the caller's event stream opens (EventHub replays the participant's splash).
    this.show(s, splash(RECEPTION_SCREENS.welcome));
    this.log.info({ reception: conf.service.name, participant: p.id, alias: p.alias }, 'Participant entered Virtual Reception');
  }

  private forget(participantId: string): void {
    const s = this.sessions.get(participantId);
    if (!s) return;
    this.clearTimer(s);
    this.sessions.delete(participantId);
  }

  private async submitWithPolicy(s: Session, entered: string): Promise<void> {
    if (s.finished || this.sessions.get(s.participant.id) !== s) return;
    const reception = s.conference.service;
    const alias = entered === '' ? null : destinationAlias(reception.matchString, reception.replaceString, entered);
    const p = s.participant;
    const routed =
      alias && alias.trim() !== ''
        ? await this.manager.policy
            .resolve(alias, { displayName: p.displayName, remoteAddress: p.remoteAddress, nodeIp: '', callTag: p.callTag })
            .catch(() => undefined)
        : undefined;
    if (s.finished || this.sessions.get(s.participant.id) !== s) return;
    this.submit(s, entered, routed);
  }

  private submit(s: Session, entered: string, routed?: PolicyRoute): void {
    const reception = s.conference.service;
    // An empty '#' is not an attempt: stay on the welcome screen.
    if (entered === '') {
      this.show(s, splash(RECEPTION_SCREENS.welcome));
      return;
    }
    const call: CallContext = { direction: 'incoming', protocol: 'webrtc', location: this.location(), registered: false };
    let outcome = resolveEntry(reception, entered, this.manager.directory, call, routed);
    // Break-in resistance (BreakInResistance.ts): an entry is a new call attempt from the caller's address.
    const p = s.participant;
    const attempt = { alias: outcome.alias ?? entered, participant: p.displayName, protocol: p.protocol, remoteAddress: p.remoteAddress };
    if (this.manager.breakIn.rejectQuarantined(attempt)) outcome = { kind: 'invalid', alias: outcome.alias, why: 'caller quarantined by break-in prevention' };
    else if (outcome.kind === 'transfer' && this.manager.breakIn.rejectBlockedService(outcome.service, attempt))
      outcome = { kind: 'invalid', alias: outcome.alias, why: 'service blocked by break-in prevention' };
    else if (outcome.kind === 'invalid' && outcome.alias !== null && this.manager.directory.route(outcome.alias, call).kind === 'none')
      this.manager.breakIn.unknownAlias(attempt);
    const ctx = { reception: reception.name, participant: s.participant.id, entered };
    if (outcome.kind === 'transfer') {
      s.finished = true;
      const { service, alias } = outcome;
      this.show(s, splash(RECEPTION_SCREENS.connecting, 0, { conference_name: service.name }));
      const token = this.transfers.issue({
        serviceId: service.id,
        alias,
        fromService: reception.name,
        fromParticipant: s.participant.id,
        displayName: s.participant.displayName,
      });
      this.log.info({ ...ctx, destination: alias, conference: service.name }, 'Virtual Reception transferring participant');
      // As a Host's transfer: a client gets the SSE `refer` (EventHub), a SIP call moves on (SipCalls).
      s.conference.emit('refer', s.participant, { alias, token });
      this.later(s, this.timings.transferGraceMs, () => s.conference.remove(s.participant.id, REASON_TRANSFERRED));
      return;
    }
    s.invalid += 1;
    this.log.info({ ...ctx, destination: outcome.alias, attempt: s.invalid, why: outcome.why }, 'Virtual Reception: invalid conference ID entered');
    if (s.invalid >= MAX_INVALID_ENTRIES) {
      s.finished = true;
      this.show(s, splash(RECEPTION_SCREENS.timeout, this.timings.timeoutScreenMs));
      this.later(s, this.timings.timeoutScreenMs, () => s.conference.remove(s.participant.id, REASON_NOT_FOUND));
      return;
    }
    this.show(s, splash(RECEPTION_SCREENS.invalid, this.timings.invalidScreenMs));
    this.later(s, this.timings.invalidScreenMs, () => this.show(s, splash(RECEPTION_SCREENS.welcome)));
  }

  private show(s: Session, screen: ReceptionSplash): void {
    s.conference.setSplash(s.participant, screen);
  }

  private later(s: Session, ms: number, fn: () => void): void {
    this.clearTimer(s);
    s.timer = setTimeout(() => {
      s.timer = null;
      if (this.sessions.get(s.participant.id) === s) fn();
    }, ms);
    s.timer.unref();
  }

  private clearTimer(s: Session): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
  }

  close(): void {
    for (const s of this.sessions.values()) this.clearTimer(s);
    this.sessions.clear();
  }
}
