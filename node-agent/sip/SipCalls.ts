import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager, JoinResult } from '../conference/ConferenceManager.js';
import type { Participant } from '../conference/Participant.js';
import { TOKEN_LIFETIME_S } from '../conference/Participant.js';
import { RECEPTION_SCREENS, type VirtualReceptions } from '../conference/VirtualReception.js';
import { MediasoupConferenceMedia } from '../media/mediasoup/MediasoupConferenceMedia.js';
import { SipCallLeg, type SipMediaLeg } from './SipCallLeg.js';
import { RemoteSipCallLeg } from './RemoteSipCallLeg.js';
import { infoDigit } from './dtmf/sipInfoDtmf.js';
import type { DtmfDigit } from './dtmf/telephoneEvent.js';
import { fixedPinLength, PIN_ATTEMPTS, PinEntry } from './ivr/PinEntry.js';
import type { PinCaller } from '../conference/PinCaller.js';
import type { PromptName } from './ivr/prompts.js';
import { themePrompt, type ThemeLayers } from './ivr/themePrompts.js';
import { parseSipOffer, SipSdpError } from './SipSdp.js';
import type { IncomingSipCall, SipInviteAnswer } from './SipServer.js';
import { sendKeysByInfo, type SendInfo } from './dtmf/sendKeys.js';
import type { ClockTimer } from '../../shared/time/Clock.js';

/** The Virtual Reception's screens a keypad caller hears as prompts. */
/** The prompt a keypad caller hears for each splash screen a web client would show. */
const SCREEN_PROMPTS: Record<string, PromptName> = {
  [RECEPTION_SCREENS.welcome]: '2sd-number-pound-key_48kHz_mono.wav',
  [RECEPTION_SCREENS.invalid]: '2sd-number-not-valid-try-again_48kHz_mono.wav',
  [RECEPTION_SCREENS.timeout]: '2sd-invalid-number-three-times-disconnect_48kHz_mono.wav',
  waiting_for_host: 'conf-waitforleader_48kHz_mono.wav',
};
/** How often a Guest waiting for the Host hears the prompt again. */
const WAITING_PROMPT_EVERY_MS = 30_000;

const notAcceptable = (why: string): SipInviteAnswer => ({
  status: 488,
  reason: 'Not Acceptable Here',
  extra: [['Warning', `399 openmeet "${why.replace(/"/g, "'")}"`]],
});

/** A caller at the PIN entry screen: its media on a media instance of its own until it joins. */
interface AtPin {
  service: ServiceConfig;
  /** The PIN entry's own media here; none when the call's media is on another node (held there in the conference). */
  media?: MediasoupConferenceMedia;
  /** Media on another node: the id the participant will have there, and that node. */
  remote?: { participantId: string; mediaNode: { id: number; name: string } };
  entry: PinEntry;
  attempts: number;
  timer: ClockTimer;
  /** How the room's roster lists it meanwhile (a Host can let it in). */
  caller: PinCaller;
}

/** One SIP call: its leg (replaced when the call moves), and where it is: a conference or PIN entry. */
interface SipCall {
  callId: string;
  displayName: string;
  remoteAddress: string;
  /** The caller's own alias: its From URI (status `source_alias`, history `remote_alias`). */
  remoteAlias: string;
  /** The alias the caller is trying to reach (dialled, or the Virtual Reception's destination). */
  alias: string;
  /** The phone's last offer: a leg that takes the call over answers it again. */
  offer: string;
  video: boolean;
  leg: SipMediaLeg;
  conference?: Conference;
  participant?: Participant;
  pin?: AtPin;
  /** Answered only to hear why it cannot join (capacity exceeded), then hung up: the media it had meanwhile. */
  refused?: { service: ServiceConfig; media: MediasoupConferenceMedia };
  /** Stops listening to the current conference (the call moved or ended). */
  detach?: () => void;
  /** Keys and moves are handled one at a time. */
  queue: Promise<void>;
  /** Our 2xx carried an offer (a late offer's, a re-INVITE without one's): the ACK brings the answer. */
  awaitingAnswer?: 'late' | 'reoffer';
  ended: boolean;
}

/**
 * SIP calls into conferences: an INVITE to a VMR alias joins the conference as a participant with
 * protocol "sip" (the PIN from `alias**PIN`), its media on plain RTP (SipCallLeg). Without a PIN
 * the caller is answered at the PIN entry screen and keys it (three attempts, then disconnected;
 * '#' alone joins as a Guest where Guests need no PIN). A Virtual Reception caller keys the
 * conference number and is moved into that conference on the same call (one Call-ID). The
 * dialog's BYE removes the participant; a participant removed by the platform gets our BYE.
 */
export class SipCalls {
  /** Set once the server exists: how a call is hung up from our side. */
  hangUp: (callId: string) => void = () => undefined;
  /** An in-dialog INFO (keys sent to the phone); set by the node with its SIP server. */
  sendInfo: SendInfo = () => false;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly log: Logger,
    /** The node's Virtual Receptions: a caller's keys there are the conference number. */
    private readonly receptions: VirtualReceptions | null = null,
    /** The themes the node holds: a theme's own prompt WAVs are played where it has them. */
    private readonly themes: ThemeLayers | null = null,
  ) {}

  async invite(call: IncomingSipCall): Promise<SipInviteAnswer> {
    const sdp = call.request.body.toString('utf8');
    // A late offer (RFC 3261 §13.2.1): an INVITE without SDP gets our offer in the 200, its answer comes in the ACK.
    const late = !sdp.trim();
    let video = false;
    try {
      if (!late) video = parseSipOffer(sdp).video !== undefined;
    } catch (err) {
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      throw err;
    }
    const state = {
      callId: call.request.headers.get('call-id')?.[0] ?? '',
      displayName: displayName(call.request.headers.get('from')?.[0]) || call.alias,
      remoteAddress: call.remoteAddress,
      remoteAlias: fromUri(call.request.headers.get('from')?.[0]),
      alias: call.alias,
      offer: sdp,
      video,
      queue: Promise.resolve(),
      ended: false,
    };
    // A call to a conference can have its media on another node (media allocation); a Virtual
    // Reception's or test call's stays here (its caller moves on, or is alone).
    const type = this.manager.directory.lookup(call.alias)?.serviceType;
    const joined = this.join(state, call.pin, undefined, type === 'conference' || type === 'lecture');
    switch (joined.kind) {
      case 'maintenance':
        return { status: 503, reason: 'Service Unavailable' };
      case 'no_capacity': {
        const refused: SipInviteAnswer = { status: 503, reason: 'Service Unavailable', extra: [['Warning', `399 openmeet "${joined.reason}"`]] };
        return this.answerRefused(state, call.alias, late, refused);
      }
      case 'not_found':
        return { status: 404, reason: 'Not Found' };
      case 'full':
        return this.answerRefused(state, call.alias, late, { status: 486, reason: 'Busy Here' });
      case 'pin_required': {
        const service = this.manager.directory.lookup(call.alias);
        // Media allocation may place it on another node, where it keys the PIN held in the conference.
        const remote =
          service && !late && (service.serviceType === 'conference' || service.serviceType === 'lecture') && this.manager.remoteLegs
            ? this.manager.admission?.remoteMediaNode(service.name, video ? 'hd' : 'audio')
            : null;
        if (service && remote) return this.answerAtPinRemote(state, service, remote, video ? 'hd' : 'audio');
        if (service && movable(sdp)) return this.answerAtPin(state, service);
        // An SRTP call cannot be moved into the conference afterwards: dial alias**PIN.
        return { status: 403, reason: 'Forbidden', extra: [['Warning', '399 openmeet "PIN required: dial alias**PIN"']] };
      }
      case 'invalid_pin':
        return { status: 403, reason: 'Forbidden', extra: [['Warning', '399 openmeet "Invalid PIN"']] };
    }
    const { conference, participant } = joined;
    if (!(conference.media instanceof MediasoupConferenceMedia)) {
      conference.remove(participant.id, 'Call failed');
      return { status: 503, reason: 'Service Unavailable' };
    }
    const encryption = this.manager.cryptoMode(conference.service);
    const leg: SipMediaLeg =
      joined.mediaNode && this.manager.remoteLegs
        ? this.manager.remoteLegs.createSip(conference, participant, {
            mediaNode: joined.mediaNode,
            call: video ? 'hd' : 'audio',
            encryption,
            ...(joined.proxyNode ? { proxyNode: joined.proxyNode } : {}),
          })
        : new SipCallLeg(participant.id, conference.media, this.log, encryption);
    if (joined.mediaNode) this.log.info({ participant: participant.id, mediaNode: joined.mediaNode.name }, 'SIP call media on another node');
    let answer: string;
    try {
      answer = late ? await leg.offer() : await leg.negotiate(sdp);
    } catch (err) {
      leg.close('Call failed');
      conference.remove(participant.id, 'Call failed');
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      this.log.warn({ err, participant: participant.id }, 'SIP call could not be answered');
      return { status: 500, reason: 'Server Internal Error' };
    }
    const c: SipCall = { ...state, leg };
    this.listen(c, leg);
    this.attach(c, conference, participant);
    if (late) c.awaitingAnswer = 'late';
    return this.answered(c, answer);
  }

  /** The ACK of a late offer's 200 carries the phone's answer; without a usable one the call ends (RFC 3261 §13.3.1.4). */
  private lateAnswer(c: SipCall, answerSdp: string): void {
    const fail = (why: string, err?: unknown) => {
      this.log.info({ err, alias: c.alias, remote: c.remoteAddress, why }, 'SIP late offer: no usable answer in the ACK');
      this.hangUp(c.callId);
      this.end(c, 'Call failed');
    };
    if (!answerSdp.trim()) return fail('the ACK has no SDP');
    c.queue = c.queue
      .then(async () => {
        await c.leg.answered(answerSdp);
        c.offer = answerSdp;
      })
      .catch((err: unknown) => fail(err instanceof SipSdpError ? err.message : 'media failed', err));
  }

  /** The answer to our offer in a re-INVITE's 2xx: directions (hold) and media as answered; the call stays as it was if it is unusable. */
  private reofferAnswer(c: SipCall, answerSdp: string): void {
    if (!answerSdp.trim()) {
      this.log.info({ alias: c.alias, remote: c.remoteAddress }, 'SIP re-INVITE without an offer: the ACK has no answer; the media stays as it was');
      return;
    }
    c.queue = c.queue
      .then(async () => {
        await c.leg.negotiate(answerSdp);
        c.offer = answerSdp;
      })
      .catch((err: unknown) =>
        this.log.info({ err, alias: c.alias }, 'SIP re-INVITE without an offer: the answer in the ACK was not usable; the media stays as it was'),
      );
  }

  private join(
    c: Pick<SipCall, 'alias' | 'displayName' | 'remoteAddress' | 'remoteAlias' | 'video'>,
    pin: string | undefined,
    grantedRole?: Participant['role'],
    remoteMedia = false,
    /** From PIN entry: it keeps the id it had there (in the roster, and on its media node when its media is on another). */
    fromPin?: AtPin,
  ): JoinResult {
    return this.manager.join({
      displayName: c.displayName,
      alias: c.alias,
      remoteAddress: c.remoteAddress,
      remoteAlias: c.remoteAlias,
      protocol: 'sip',
      pin,
      ...(grantedRole ? { grantedRole } : {}),
      // The call starts with the INVITE: its media is counted from now (audio only without a video offer).
      call: c.video ? 'hd' : 'audio',
      holdMedia: true,
      ...(remoteMedia ? { remoteMedia } : {}),
      ...(fromPin ? { id: fromPin.caller.id, ...(fromPin.remote ? { mediaPlaced: fromPin.remote.mediaNode } : {}) } : {}),
    });
  }

  /** The 200 and the dialog's handlers, which always act on the call's current leg. */
  private answered(c: SipCall, answer: string): SipInviteAnswer {
    return {
      status: 200,
      reason: 'OK',
      body: Buffer.from(answer),
      contentType: 'application/sdp',
      dialog: {
        ended: (reason) => this.end(c, reason),
        // DTMF by SIP INFO (application/dtmf-relay, application/dtmf): the same keys as RFC 4733.
        info: (contentType, body) => {
          const digit = infoDigit(contentType, body);
          if (digit) c.leg.keyed(digit);
        },
        acked: (answerSdp) => {
          const awaiting = c.awaitingAnswer;
          c.awaitingAnswer = undefined;
          if (awaiting === 'late') this.lateAnswer(c, answerSdp);
          else if (awaiting === 'reoffer') this.reofferAnswer(c, answerSdp);
        },
        reoffer: async () => {
          await c.queue;
          const body = Buffer.from(c.leg.reoffer());
          c.awaitingAnswer = 'reoffer';
          return { status: 200, reason: 'OK', body, contentType: 'application/sdp' };
        },
        reinvite: async (offer) => {
          try {
            const body = Buffer.from(await c.leg.negotiate(offer));
            c.offer = offer;
            return { status: 200, reason: 'OK', body, contentType: 'application/sdp' };
          } catch (err) {
            if (err instanceof SipSdpError) return notAcceptable(err.message);
            throw err;
          }
        },
      },
    };
  }

  /**
   * A call that cannot join for capacity (the nodes' or the room's participant limit): answered on
   * media of its own, it hears "The conferencing system capacity has been exceeded" (the theme's
   * prompt) and is hung up with the guide's reason, "Insufficient capacity". Where it cannot be
   * answered (a late offer, no media engine) it gets `otherwise`.
   */
  private async answerRefused(state: Omit<SipCall, 'leg'>, alias: string, late: boolean, otherwise: SipInviteAnswer): Promise<SipInviteAnswer> {
    const service = this.manager.directory.lookup(alias);
    if (!service || late) return otherwise;
    const media = this.manager.ivrMedia(service);
    if (!(media instanceof MediasoupConferenceMedia)) {
      media.close();
      return otherwise;
    }
    const leg = new SipCallLeg(randomUUID(), media, this.log, this.manager.cryptoMode(service));
    let answer: string;
    try {
      answer = await leg.negotiate(state.offer);
    } catch {
      leg.close('Call failed');
      media.close();
      return otherwise;
    }
    const c: SipCall = { ...state, leg, refused: { service, media } };
    this.log.info({ alias: c.alias, remote: c.remoteAddress }, 'SIP caller told the capacity is exceeded');
    // Hung up after the prompt, or after 20 s should the phone never send audio.
    const hangUp = setTimeout(() => this.disconnect(c, 'Insufficient capacity'), 20_000).unref();
    void this.prompt(c, 'conf-capacity_exceeded_48kHz_mono.wav').finally(() => {
      clearTimeout(hangUp);
      // A second more for the phone's jitter buffer to play the prompt's end.
      setTimeout(() => this.disconnect(c, 'Insufficient capacity'), 1_000).unref();
    });
    return this.answered(c, answer);
  }

  /** Answers a call to a PIN-protected room that gave no PIN: it keys the PIN on media of its own. */
  private async answerAtPin(state: Omit<SipCall, 'leg'>, service: ServiceConfig): Promise<SipInviteAnswer> {
    const media = this.manager.ivrMedia(service);
    if (!(media instanceof MediasoupConferenceMedia)) {
      media.close();
      return { status: 503, reason: 'Service Unavailable' };
    }
    const leg = new SipCallLeg(randomUUID(), media, this.log, this.manager.cryptoMode(service));
    let answer: string;
    try {
      answer = await leg.negotiate(state.offer);
    } catch (err) {
      leg.close('Call failed');
      media.close();
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      this.log.warn({ err, alias: state.alias }, 'SIP call could not be answered for PIN entry');
      return { status: 500, reason: 'Server Internal Error' };
    }
    const c: SipCall = { ...state, leg };
    this.listen(c, leg);
    this.atPin(c, service, media);
    return this.answered(c, answer);
  }

  /** As answerAtPin, the media on `mediaNode` (held there in the conference until the PIN is right). */
  private async answerAtPinRemote(
    state: Omit<SipCall, 'leg'>,
    service: ServiceConfig,
    mediaNode: { id: number; name: string; proxyNode?: { id: number; name: string } },
    call: 'hd' | 'audio',
  ): Promise<SipInviteAnswer> {
    const participantId = randomUUID();
    const node = { id: mediaNode.id, name: mediaNode.name };
    const leg = this.manager.remoteLegs!.createSipAtPin(
      service.name,
      { id: participantId, displayName: state.displayName },
      { mediaNode: node, call, encryption: this.manager.cryptoMode(service), ...(mediaNode.proxyNode ? { proxyNode: mediaNode.proxyNode } : {}) },
    );
    let answer: string;
    try {
      answer = await leg.negotiate(state.offer);
    } catch (err) {
      leg.close('Call failed');
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      this.log.warn({ err, alias: state.alias, mediaNode: node.name }, 'SIP call could not be answered for PIN entry on its media node');
      return { status: 503, reason: 'Service Unavailable' };
    }
    const c: SipCall = { ...state, leg };
    this.listen(c, leg);
    this.atPin(c, service, undefined, { participantId, mediaNode: node });
    return this.answered(c, answer);
  }

  private atPin(c: SipCall, service: ServiceConfig, media: MediasoupConferenceMedia | undefined, remote?: AtPin['remote']): void {
    // Global Settings > Service Configuration > PIN entry timeout (default 120 s).
    const timer = this.manager.clock
      .setTimeout(() => {
        this.log.info({ alias: c.alias, remote: c.remoteAddress }, 'PIN entry timed out');
        this.disconnect(c, 'PIN entry timed out');
      }, this.manager.settings.pinEntryTimeout * 1000)
      .unref();
    const caller: PinCaller = {
      id: remote?.participantId ?? randomUUID(),
      serviceId: service.id,
      displayName: c.displayName,
      alias: c.alias,
      remoteAddress: c.remoteAddress,
      remoteAlias: c.remoteAlias,
      protocol: 'sip',
      video: c.video,
      since: new Date(),
      admit: (role) => {
        c.queue = c.queue.then(() => this.admitFromPin(c, role)).catch((err: unknown) => this.log.warn({ err }, 'SIP caller at PIN entry could not be let in'));
      },
      hangUp: (reason) => this.disconnect(c, reason),
    };
    c.pin = {
      service,
      ...(media ? { media } : {}),
      ...(remote ? { remote } : {}),
      entry: new PinEntry(fixedPinLength(service.pin, service.guestPin)),
      attempts: 0,
      timer,
      caller,
    };
    this.manager.addPinCaller(caller);
    this.log.info({ alias: c.alias, remote: c.remoteAddress }, 'SIP caller at PIN entry');
    void this.prompt(c, pinPrompt(service));
  }

  /** Plays a prompt on the call's current leg once the phone's audio has arrived (where we send is known then). */
  private async prompt(c: SipCall, name: PromptName): Promise<void> {
    const leg = c.leg;
    // Media on another node: played there, from its copy of the theme.
    if (leg.remotePrompt) return leg.remotePrompt(name);
    await leg.heard(3_000);
    if (c.leg !== leg || c.ended) return;
    await leg.play(themePrompt(this.themes, c.pin?.service ?? c.refused?.service ?? c.conference?.service ?? null, name));
  }

  private listen(c: SipCall, leg: SipMediaLeg): void {
    leg.keypad.on('dtmf', (digit) => {
      if (c.leg !== leg) return;
      c.queue = c.queue.then(() => this.key(c, digit)).catch((err: unknown) => this.log.warn({ err }, 'SIP DTMF handling failed'));
    });
  }

  private async key(c: SipCall, digit: DtmfDigit): Promise<void> {
    if (c.ended) return;
    if (c.pin) return this.pinKey(c, c.pin, digit);
    const { conference, participant } = c;
    if (!conference || !participant || !conference.get(participant.id)) return;
    this.log.debug({ participant: participant.id }, 'SIP DTMF key');
    // A Host's two-key commands (*7 lock, *5 mute Guests, ## end), as a client's call `dtmf`; in a Virtual Reception, the conference number.
    this.manager.control.callDtmf(conference, participant, digit);
    this.receptions?.dtmf(conference, participant, digit);
  }

  private async pinKey(c: SipCall, at: AtPin, digit: DtmfDigit): Promise<void> {
    const pin = at.entry.press(digit);
    if (pin === undefined) return;
    // '#' alone: join without a PIN, which admits a Guest where Guests need none.
    const joined = this.join(c, pin === '' ? 'none' : pin, undefined, false, at);
    const ctx = { alias: c.alias, remote: c.remoteAddress, participant: c.displayName };
    switch (joined.kind) {
      case 'pin_required':
        return;
      case 'invalid_pin':
        at.attempts += 1;
        this.log.info({ ...ctx, attempt: at.attempts }, 'Participant entered incorrect conference PIN');
        // "The PIN is invalid for this conference", then the request again, or after the third the call ends.
        if (at.attempts >= PIN_ATTEMPTS) {
          await this.prompt(c, 'conf-invalidpin_48kHz_mono.wav');
          this.disconnect(c, 'Invalid PIN');
        } else {
          void this.prompt(c, 'conf-invalidpin_48kHz_mono.wav').then(() => (c.pin === at ? this.prompt(c, pinPrompt(at.service)) : undefined));
        }
        return;
      case 'joined':
        return this.enterFromPin(c, at, joined.conference, joined.participant);
      default:
        this.log.info({ ...ctx, result: joined.kind }, 'SIP caller could not join after PIN entry');
        this.disconnect(c, joined.kind === 'full' ? 'Participant limit reached' : 'Call rejected');
        return;
    }
  }

  /** A Host let the caller in from the PIN entry screen (Make Host / Make Guest): that role, no PIN. */
  private async admitFromPin(c: SipCall, role: Participant['role']): Promise<void> {
    const at = c.pin;
    if (!at || c.ended) return;
    // Its roster entry goes when it joins (Conference.add), listed again as the participant it becomes.
    const joined = this.join(c, undefined, role, false, at);
    if (joined.kind !== 'joined') {
      this.log.info({ alias: c.alias, remote: c.remoteAddress, result: joined.kind }, 'SIP caller could not join when let in from PIN entry');
      this.disconnect(c, joined.kind === 'full' ? 'Participant limit reached' : 'Call rejected');
      return;
    }
    return this.enterFromPin(c, at, joined.conference, joined.participant);
  }

  /** The caller leaves PIN entry for the conference it joined. */
  private async enterFromPin(c: SipCall, at: AtPin, conference: Conference, participant: Participant): Promise<void> {
    this.manager.clock.clearTimeout(at.timer);
    this.manager.removePinCaller(at.caller);
    delete c.pin;
    if (at.remote && c.leg instanceof RemoteSipCallLeg) {
      // Its media is held in the conference on the media node already: let in there, no move.
      this.manager.remoteLegs?.follow(c.leg, conference, participant);
      this.attach(c, conference, participant);
      return;
    }
    if (!(await this.move(c, conference, participant))) return;
    at.media?.close();
  }

  /** The call's media goes to `participant` in `conference`, on the same ports; false when it failed (the call is ended). */
  private async move(c: SipCall, conference: Conference, participant: Participant): Promise<boolean> {
    if (!(conference.media instanceof MediasoupConferenceMedia)) {
      conference.remove(participant.id, 'Call failed');
      this.disconnect(c, 'Call failed');
      return false;
    }
    const old = c.leg;
    const ports = old.localPorts();
    const leg = new SipCallLeg(participant.id, conference.media, this.log, this.manager.cryptoMode(conference.service), ports);
    c.leg = leg;
    this.listen(c, leg);
    // The old transports free the ports the phone sends to; the new ones bind them.
    old.close('Call transferred');
    try {
      await leg.negotiate(c.offer);
    } catch (err) {
      this.log.warn({ err, participant: participant.id }, 'SIP call could not be moved into the conference');
      leg.close('Call failed');
      conference.remove(participant.id, 'Call failed');
      this.disconnect(c, 'Call failed');
      return false;
    }
    if (c.ended) {
      leg.close('Call disconnected');
      conference.remove(participant.id, 'Call disconnected');
      return false;
    }
    this.attach(c, conference, participant);
    return true;
  }

  /** The participant lives as long as its call: its token is kept fresh, and leaving sends our BYE. */
  private attach(c: SipCall, conference: Conference, participant: Participant): void {
    const before = c.conference && c.participant ? { conference: c.conference, participant: c.participant } : undefined;
    c.detach?.();
    c.conference = conference;
    c.participant = participant;
    const leg = c.leg;
    participant.leg = leg;
    participant.lastCallId = leg.id;
    // Media on another node cannot move with the call (its ports are that node's).
    participant.transferSupported = movable(c.offer) && !(leg instanceof RemoteSipCallLeg);
    participant.sendDtmf = (digits) => void sendKeysByInfo(this.sendInfo, c.callId, digits, () => c.ended || c.participant !== participant);
    conference.updated(participant);
    const refresh = setInterval(() => this.manager.refreshToken(conference, participant), (TOKEN_LIFETIME_S * 1000) / 3).unref();
    const left = (p: Participant) => {
      if (p !== participant) return;
      detach();
      leg.close('Call disconnected');
      if (c.participant === participant) this.disconnect(c, 'Call disconnected');
    };
    // Transferred (a Host's transfer, or the Virtual Reception's destination): the call moves on.
    const referred = (p: Participant, refer: { alias: string; token: string }) => {
      if (p === participant) c.queue = c.queue.then(() => this.transfer(c, refer)).catch((err: unknown) => this.log.warn({ err }, 'SIP transfer failed'));
    };
    // The caller hears its screens: in a Virtual Reception the number request, invalid number and
    // disconnect; a Guest before the Host "waiting for the Host", again every 30 s while it waits.
    let reminder: ReturnType<typeof setInterval> | undefined;
    const screen = (p: Participant) => {
      if (p !== participant) return;
      clearInterval(reminder);
      const name = p.splash ? SCREEN_PROMPTS[p.splash.screen_key] : undefined;
      if (!name) return;
      void this.prompt(c, name);
      if (p.splash?.screen_key === 'waiting_for_host')
        reminder = setInterval(() => {
          if (participant.splash?.screen_key === 'waiting_for_host' && c.participant === participant) void this.prompt(c, name);
          else clearInterval(reminder);
        }, WAITING_PROMPT_EVERY_MS).unref();
    };
    const detach = () => {
      clearInterval(refresh);
      clearInterval(reminder);
      conference.off('participantLeft', left);
      conference.off('refer', referred);
      conference.off('splashScreen', screen);
    };
    c.detach = detach;
    conference.on('participantLeft', left);
    conference.on('refer', referred);
    conference.on('splashScreen', screen);
    screen(participant);
    leg.on('closed', () => {
      if (participant.leg === leg) participant.leg = null;
    });
    // The conference the call came from lets it go now that it is here.
    if (before) before.conference.remove(before.participant.id, 'Call transferred');
  }

  /** A `refer` for the call's participant: it joins the destination with the one-time token. */
  private async transfer(c: SipCall, refer: { alias: string; token: string }): Promise<void> {
    if (c.ended || c.pin) return;
    const service = this.manager.directory.lookup(refer.alias);
    const grant = service ? this.manager.transfers.check(refer.token, service.id) : undefined;
    if (!service || !grant?.ok) return;
    if (!movable(c.offer) || c.leg instanceof RemoteSipCallLeg) {
      this.log.info({ alias: refer.alias }, 'SIP call not transferred: its media (SRTP, no a=ssrc, or on another node) cannot move');
      return;
    }
    c.alias = refer.alias;
    const joined = this.join(c, undefined, grant.grant.role);
    if (joined.kind === 'pin_required') {
      this.manager.transfers.consume(refer.token);
      const media = this.manager.ivrMedia(service);
      if (!(media instanceof MediasoupConferenceMedia)) {
        media.close();
        return this.disconnect(c, 'Call failed');
      }
      if (!(await this.moveToPin(c, service, media))) return;
      return;
    }
    if (joined.kind !== 'joined') {
      this.log.info({ alias: refer.alias, result: joined.kind }, 'SIP call could not join its transfer destination');
      return this.disconnect(c, joined.kind === 'full' ? 'Participant limit reached' : 'Call rejected');
    }
    this.manager.transfers.consume(refer.token);
    this.log.info({ from: c.conference?.service.name, to: joined.conference.service.name, participant: joined.participant.id }, 'SIP call transferred');
    await this.move(c, joined.conference, joined.participant);
  }

  /** A transferred call reaches a PIN-protected room: it leaves where it was and keys the PIN. */
  private async moveToPin(c: SipCall, service: ServiceConfig, media: MediasoupConferenceMedia): Promise<boolean> {
    const old = c.leg;
    const leg = new SipCallLeg(randomUUID(), media, this.log, this.manager.cryptoMode(service), old.localPorts());
    c.leg = leg;
    this.listen(c, leg);
    const before = c.conference && c.participant ? { conference: c.conference, participant: c.participant } : undefined;
    c.detach?.();
    delete c.conference;
    delete c.participant;
    old.close('Call transferred');
    before?.conference.remove(before.participant.id, 'Call transferred');
    try {
      await leg.negotiate(c.offer);
    } catch (err) {
      this.log.warn({ err }, 'SIP call could not be moved to PIN entry');
      media.close();
      this.disconnect(c, 'Call failed');
      return false;
    }
    this.atPin(c, service, media);
    return true;
  }

  /** We end the call: BYE to the phone, and everything it held goes. */
  private disconnect(c: SipCall, reason: string): void {
    if (c.ended) return;
    this.hangUp(c.callId);
    this.end(c, reason);
  }

  /** The call is over (the phone's BYE, or ours). */
  private end(c: SipCall, reason: string): void {
    if (c.ended) return;
    c.ended = true;
    c.detach?.();
    c.leg.close(reason);
    if (c.pin) {
      this.manager.clock.clearTimeout(c.pin.timer);
      this.manager.removePinCaller(c.pin.caller);
      c.pin.media?.close();
      delete c.pin;
    }
    c.refused?.media.close();
    if (c.conference && c.participant) c.conference.remove(c.participant.id, reason);
  }
}

/** "Please enter the conference PIN number" (followed by the pound key where the PINs end with '#'). */
function pinPrompt(service: ServiceConfig): PromptName {
  return service.pin.endsWith('#') ? 'conf-getpin_pound-key_48kHz_mono.wav' : 'conf-getpin_48kHz_mono.wav';
}

/**
 * Whether a call's media can move to another conference on the same ports: plain RTP (an SRTP
 * transport's key would change, and we send no re-INVITE to give the phone the new one). A phone
 * without a=ssrc keeps its relay's ports.
 */
function movable(sdp: string): boolean {
  try {
    const offer = parseSipOffer(sdp);
    // A phone without a=ssrc moves with its relay's ports; SRTP cannot: a new transport has a new key.
    return !!offer.audio && !offer.audio.crypto && !offer.video?.crypto;
  } catch {
    return false;
  }
}

/** The From's URI, without its display name and header parameters (the tag). */
function fromUri(from: string | undefined): string {
  if (!from) return '';
  return (/<([^>]+)>/.exec(from)?.[1] ?? from.split(';')[0] ?? '').trim();
}

/** The From's display name, else its URI's user. */
function displayName(from: string | undefined): string {
  if (!from) return '';
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"/.exec(from);
  if (quoted?.[1]) return quoted[1];
  const bare = /^\s*([^<"]+?)\s*</.exec(from);
  if (bare?.[1]) return bare[1];
  return /<([^>]+)>/.exec(from)?.[1] ?? (from.split(';')[0] ?? '').trim();
}
