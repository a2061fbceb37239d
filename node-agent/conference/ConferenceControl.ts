import type { Logger } from 'pino';
import { DEFAULT_DTMF_COMMANDS, type DtmfCommand } from '../theme/dtmfControls.js';
import { decideRole, type Role } from '../../shared/conference/pinCheck.js';
import { BACKPLANE_PARTICIPANT_ACTIONS, type BackplaneParticipantAction, type LayoutName, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import { LAYOUT_SHORT, type LayoutShort } from '../../shared/client-api/media.js';
import type { ConferenceAction, DialBody, ParticipantAction, TransferBody, TransformLayoutBody } from '../../shared/client-api/conference.js';
import { REASON, type Conference } from './Conference.js';
import type { ConferenceManager } from './ConferenceManager.js';
import { ControlError, REFUSAL } from './ControlError.js';
import type { Participant } from './Participant.js';
import type { DialOutRequest } from '../sip/dialout/DialOut.js';

export type { ConferenceAction, ParticipantAction };

/** Actions a participant may take on themselves; on someone else they need a Host. */
const SELF_ACTIONS = new Set<ParticipantAction>([
  'mute',
  'unmute',
  'client_mute',
  'client_unmute',
  'video_muted',
  'video_unmuted',
  'buzz',
  'clearbuzz',
  'disconnect',
  'allowrxpresentation',
  'denyrxpresentation',
  'notify_not_afk',
]);

const BACKPLANE_ACTIONS = new Set<string>(BACKPLANE_PARTICIPANT_ACTIONS);
const isBackplaneAction = (a: ParticipantAction): a is BackplaneParticipantAction => BACKPLANE_ACTIONS.has(a);

const LAYOUT_BY_SHORT = Object.fromEntries(Object.entries(LAYOUT_SHORT).map(([name, short]) => [short, name])) as Record<LayoutShort, LayoutName>;

/**
 * Who acts: a participant, or an administrator (management API commands, the console), who has a
 * Host's rights in every conference.
 */
export type Actor = { readonly id: string; readonly role: Role; readonly held: boolean };
export const ADMINISTRATOR: Actor = Object.freeze({ id: 'administrator', role: 'HOST', held: false });

/** The guide's disconnect reasons for an administrator's disconnects (#pex122, #pex123). */
const ADMINISTRATOR_REASON = {
  conference: 'Conference terminated by an administrator',
  participant: 'Disconnected by an administrator',
} as const;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Who may control a meeting and how (guide §29, client-api-v2 §6–§7): Hosts control the
 * conference and everyone; a participant may act on themselves (mute, camera, hand, leave), and a
 * Guest unmutes itself only when the conference lets Guests unmute. Every refusal is a ControlError.
 */
export class ConferenceControl {
  /** The last DTMF digits each participant sent, for the two-digit Host commands. */
  private readonly dtmfTail = new Map<string, string>();
  /** A conference's Host keypad controls (its theme's, set by the node); null: switched off. */
  dtmfCommands: (conf: Conference) => Readonly<Record<string, DtmfCommand>> | null = () => DEFAULT_DTMF_COMMANDS;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly log: Logger,
  ) {}

  conference(conf: Conference, by: Actor, action: ConferenceAction): void {
    this.requireHost(by);
    const ctx = { conference: conf.service.name, participant: by.id };
    switch (action) {
      case 'lock':
      case 'unlock':
        conf.setLocked(action === 'lock');
        this.log.info({ ...ctx, locked: conf.locked }, action === 'lock' ? 'Conference locked' : 'Conference unlocked');
        return;
      case 'start_conference':
        return conf.admitAll();
      case 'muteguests':
      case 'unmuteguests':
        return conf.setGuestsMuted(action === 'muteguests');
      case 'disconnect':
        // One conference across nodes: it ends on every node it spans.
        if (by === ADMINISTRATOR) {
          this.log.info(ctx, 'Conference disconnected by an administrator');
          return conf.endEverywhere(ADMINISTRATOR_REASON.conference);
        }
        this.log.info(ctx, 'Conference disconnected by a Host');
        return conf.endEverywhere(REASON.conferenceByParticipant);
      case 'clearallbuzz':
        return conf.clearAllBuzz();
    }
  }

  setGuestsCanUnmute(conf: Conference, by: Actor, setting: boolean): void {
    this.requireHost(by);
    conf.setGuestsCanUnmute(setting);
  }

  transformLayout(conf: Conference, by: Actor, body: TransformLayoutBody): void {
    this.requireHost(by);
    const t = body.transforms;
    const both = t.layout ? LAYOUT_BY_SHORT[t.layout] : undefined;
    const host = t.host_layout ? LAYOUT_BY_SHORT[t.host_layout] : both;
    const guest = t.guest_layout ? LAYOUT_BY_SHORT[t.guest_layout] : both;
    conf.setLayout({ ...(host ? { host } : {}), ...(guest ? { guest } : {}) });
  }

  participant(conf: Conference, by: Actor, targetId: string, action: ParticipantAction): void {
    const atPin = conf.pinCaller(targetId);
    if (atPin) {
      // A caller at the PIN entry screen: a Host can only disconnect it (or let it in: setRole).
      this.requireHost(by);
      if (action !== 'disconnect') throw new ControlError(REFUSAL.invalidRole);
      this.log.info({ conference: conf.service.name, participant: targetId, by: by.id }, 'Caller at PIN entry disconnected');
      atPin.hangUp(by === ADMINISTRATOR ? ADMINISTRATOR_REASON.participant : REASON.byParticipant);
      return;
    }
    if (this.remoteTarget(conf, by, targetId)) {
      // A participant on another node: a Host's action goes to its node over the backplane.
      if (!isBackplaneAction(action)) throw new ControlError(REFUSAL.notOnThisNode);
      conf.controlRemote(targetId, { kind: 'participant', participantId: targetId, action });
      return;
    }
    const target = this.target(conf, by, targetId, SELF_ACTIONS.has(action));
    switch (action) {
      case 'mute':
        return conf.change(target, { isMuted: true });
      case 'unmute':
        // Guide §29.2: Guests unmute themselves only where the conference allows it.
        if (by.role === 'GUEST' && target.isMuted && !conf.guestsCanUnmute) throw new ControlError(REFUSAL.invalidRole);
        return conf.change(target, { isMuted: false });
      case 'client_mute':
      case 'client_unmute':
        return conf.change(target, { isClientMuted: action === 'client_mute' });
      case 'video_muted':
      case 'video_unmuted':
        return conf.change(target, { isVideoMuted: action === 'video_muted' });
      case 'spotlighton':
        if (target.spotlight === 0) conf.change(target, { spotlight: nowSeconds() });
        return;
      case 'spotlightoff':
        return conf.change(target, { spotlight: 0 });
      case 'buzz':
        if (target.buzzTime === 0) conf.change(target, { buzzTime: nowSeconds() });
        return;
      case 'clearbuzz':
        return conf.change(target, { buzzTime: 0 });
      case 'unlock':
        this.log.info({ conference: conf.service.name, participant: target.id, by: by.id }, 'Participant admitted to the conference');
        return conf.admit(target);
      case 'disconnect':
        return conf.remove(
          target.id,
          target === by ? 'Participant disconnected' : by === ADMINISTRATOR ? ADMINISTRATOR_REASON.participant : REASON.byParticipant,
        );
      case 'allowrxpresentation':
      case 'denyrxpresentation': {
        const denied = action === 'denyrxpresentation';
        // The guide's administrator-log wording.
        if (target.rxPresentationDenied !== denied)
          this.log.info(
            { conference: conf.service.name, participant: target.id, by: by.id },
            denied ? 'Participant presentation receipt disabled by API.' : 'Participant presentation receipt enabled by API.',
          );
        return conf.change(target, { rxPresentationDenied: denied });
      }
      case 'notify_not_afk':
        // Only the participant can say they are at their device. Kept for an idle rule; none disconnects on it yet.
        if (target !== by) throw new ControlError(REFUSAL.invalidRole);
        target.notAfkAt = Date.now();
        return;
    }
  }

  /** `overlaytext` (Host): the name shown on the participant's tile; empty restores their display name. */
  setOverlayText(conf: Conference, by: Actor, targetId: string, text: string): void {
    const target = this.target(conf, by, targetId, false);
    conf.change(target, { overlayText: text.trim() });
  }

  /**
   * `pres_in_mix`: the participant (or a Host for them) asks for the presentation inside the layout.
   * Recorded and shown to everyone (needs_presentation_in_mix); the node composes no layouts yet
   * (single-stream calls get the presentation on their own m-line), so the media is unchanged.
   */
  setPresentationInMix(conf: Conference, by: Actor, targetId: string, state: boolean): void {
    conf.change(this.target(conf, by, targetId, true), { presentationInMix: state });
  }

  /** `preferred_aspect_ratio`: the participant's own preference, kept; the node forwards video uncropped, so it changes no media yet. */
  setPreferredAspectRatio(conf: Conference, by: Actor, targetId: string, aspectRatio: number | undefined): void {
    const target = this.target(conf, by, targetId, true);
    if (target !== by) throw new ControlError(REFUSAL.invalidRole);
    target.preferredAspectRatio = aspectRatio;
  }

  /**
   * `role`: make a participant Host (`chair`) or Guest. Given to a caller at the PIN entry screen,
   * it lets the caller in with that role without a PIN (guide §20.6).
   */
  setRole(conf: Conference, by: Actor, targetId: string, role: 'chair' | 'guest'): void {
    const atPin = conf.pinCaller(targetId);
    if (atPin) {
      this.requireHost(by);
      this.log.info({ conference: conf.service.name, participant: targetId, by: by.id, role }, 'Caller at PIN entry admitted by a Host');
      atPin.admit(role === 'chair' ? 'HOST' : 'GUEST');
      return;
    }
    if (this.remoteTarget(conf, by, targetId)) {
      conf.controlRemote(targetId, { kind: 'role', participantId: targetId, role });
      return;
    }
    const target = this.target(conf, by, targetId, false);
    conf.setRole(target, role === 'chair' ? 'HOST' : 'GUEST');
  }

  /**
   * `transfer`: the participant is referred to another service's alias with a one-time token that
   * carries the role. The role must be one the destination gives: a Host role needs its Host PIN
   * (unless it has none); a Guest role its Guest PIN where it has one. A transfer the destination
   * refuses (unknown alias, role not given) disconnects the participant with "transfer failed".
   */
  transfer(conf: Conference, by: Actor, targetId: string, body: TransferBody): void {
    const target = this.target(conf, by, targetId, false);
    if (!target.transferSupported) throw new ControlError(REFUSAL.transferNotSupported);
    const destination = this.manager.directory.lookup(body.conference_alias);
    const role = destination ? transferRole(destination, body) : undefined;
    if (!destination || !role) {
      // Guide (participant transfer): once a transfer is started, a failure disconnects the
      // participant; they do not stay in or return to this conference. The Host is told it failed.
      this.log.info({ conference: conf.service.name, participant: target.id, destination: body.conference_alias }, 'Participant transfer failed');
      conf.remove(target.id, REFUSAL.transferFailed);
      throw new ControlError(REFUSAL.transferFailed);
    }
    const token = this.manager.transfers.issue({
      serviceId: destination.id,
      alias: body.conference_alias,
      fromService: conf.service.name,
      fromParticipant: target.id,
      displayName: target.displayName,
      role,
    });
    this.log.info({ conference: conf.service.name, participant: target.id, destination: body.conference_alias, role }, 'Transferring participant');
    conf.refer(target, body.conference_alias, token);
  }

  /** Participant `dtmf` (a Host sends digits to someone): nothing to play them to on a WebRTC leg, so logged. */
  sendDtmf(conf: Conference, by: Actor, targetId: string, digits: string): void {
    const target = this.target(conf, by, targetId, true);
    target.sendDtmf?.(digits);
    this.log.info(
      { conference: conf.service.name, participant: target.id, by: by.id, digits: digits.length, sent: !!target.sendDtmf },
      'DTMF sent to participant',
    );
  }

  /**
   * Call `dtmf`: digits the participant keyed. A Host's two-digit commands act on the conference:
   * the theme's (`dtmfCommands`), by default `*7` lock/unlock, `*5` mute/unmute all Guests, `##` end.
   */
  callDtmf(conf: Conference, p: Participant, digits: string): void {
    if (conf.gateway) {
      // A gateway call passes keys through (an IVR or a meeting PIN at the far end).
      for (const other of conf.participants) if (other !== p) other.sendDtmf?.(digits);
      return;
    }
    for (const d of digits) {
      const tail = ((this.dtmfTail.get(p.id) ?? '') + d).slice(-2);
      this.dtmfTail.set(p.id, tail);
      const command = this.dtmfCommands(conf)?.[tail];
      if (!command || p.role !== 'HOST' || p.held) continue;
      this.dtmfTail.delete(p.id);
      this.log.info({ conference: conf.service.name, participant: p.id, command }, 'DTMF conference control');
      if (command === 'toggle_lock') conf.setLocked(!conf.locked);
      else if (command === 'toggle_guest_mute') conf.setGuestsMuted(!conf.guestsMuted);
      else return conf.endEverywhere(REASON.dtmfEnd);
    }
  }

  /** Places a SIP call into a conference (or the service's, started if need be); set by a node with SIP (sip/dialout/DialOut.ts). */
  dialer: ((target: Conference | ServiceConfig, req: DialOutRequest) => Participant | { refused: string }) | null = null;

  /**
   * Conference `dial` (a Host calls out): a SIP call, answered at once with the new participant's
   * uuid (it rings in the roster; a call not answered leaves with its reason). Other protocols, or
   * a node without SIP, fail with the guide's reason.
   */
  dial(conf: Conference, by: Actor, body: DialBody): string[] {
    this.requireHost(by);
    this.log.info(
      { conference: conf.service.name, participant: by.id, destination: body.destination, protocol: body.protocol, role: body.role },
      'Outgoing call requested',
    );
    if (!this.dialer || (body.protocol !== 'sip' && body.protocol !== 'auto')) throw new ControlError(REFUSAL.dialOutFailed);
    const placed = this.dialer(conf, {
      destination: body.destination,
      role: body.role,
      ...(body.remote_display_name ? { displayName: body.remote_display_name } : {}),
      ...(body.source ? { callerAlias: body.source } : {}),
      ...(body.source_display_name ? { callerName: body.source_display_name } : {}),
      ...(body.dtmf_sequence ? { dtmfSequence: body.dtmf_sequence } : {}),
      // `auto`: the outgoing Call Routing Rules decide where and how.
      ...(body.protocol === 'auto' ? { routing: 'rules' as const } : {}),
      source: 'dial',
    });
    if ('refused' in placed) throw new ControlError(REFUSAL.dialOutFailed);
    return [placed.id];
  }

  /** Chat must be on for the service (per-service setting, else global). */
  requireChat(conf: Conference): void {
    if (!this.manager.chatEnabled(conf.service)) throw new ControlError(REFUSAL.chatDisabled);
  }

  /** Whether the request names a participant of another node (then `by` must be a Host). */
  private remoteTarget(conf: Conference, by: Actor, targetId: string): boolean {
    if (conf.get(targetId) || !conf.isRemote(targetId)) return false;
    this.requireHost(by);
    return true;
  }

  /** The participant a request names; someone else than `by` needs `by` to be a Host in the meeting. */
  target(conf: Conference, by: Actor, targetId: string, selfAllowed: boolean): Participant {
    const target = conf.get(targetId);
    if (!target && conf.isRemote(targetId)) {
      this.requireHost(by);
      throw new ControlError(REFUSAL.notOnThisNode);
    }
    if (!target) throw new ControlError(REFUSAL.notFound);
    if (target === by && selfAllowed) return target;
    this.requireHost(by);
    return target;
  }

  private requireHost(by: Actor): void {
    // A Host still waiting in the lobby does not control the meeting yet.
    if (by.role !== 'HOST' || by.held) throw new ControlError(REFUSAL.invalidRole);
  }

  forget(participantId: string): void {
    this.dtmfTail.delete(participantId);
  }
}

/** The role a transfer gives at the destination, or undefined when the destination would not give it. */
function transferRole(destination: { pin: string; guestPin: string; allowGuests: boolean }, body: TransferBody): Role | undefined {
  if (destination.pin === '') return body.role === 'host' ? 'HOST' : 'GUEST';
  const decision = decideRole(destination, body.pin ?? 'none');
  if (body.role === 'host') return decision.kind === 'admit' && decision.role === 'HOST' ? 'HOST' : undefined;
  return decision.kind === 'admit' ? 'GUEST' : undefined;
}
