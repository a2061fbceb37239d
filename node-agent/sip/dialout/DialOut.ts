import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Role } from '../../../shared/conference/pinCheck.js';
import type { ServiceConfig } from '../../../shared/node-protocol/messages.js';
import type { Conference } from '../../conference/Conference.js';
import type { ConferenceManager } from '../../conference/ConferenceManager.js';
import type { Participant } from '../../conference/Participant.js';
import { TOKEN_LIFETIME_S } from '../../conference/Participant.js';
import { MediasoupConferenceMedia } from '../../media/mediasoup/MediasoupConferenceMedia.js';
import { DTMF_TIMING, sendKeysByInfo } from '../dtmf/sendKeys.js';
import { SipCallLeg } from '../SipCallLeg.js';
import { reofferHandlers } from '../reoffer.js';
import { forkToRegistrations, type ForkResult } from '../SipFork.js';
import { SipSdpError, type MediaEncryption } from '../SipSdp.js';
import type { OutgoingCallOptions, SipDialogHandlers, SipServer } from '../SipServer.js';
import { resolveSipDestination, SipDestinationError } from './SipDestination.js';

/** A call the conference places: the client API `dial`, the command API, the console, an ADP. */
export interface DialOutRequest {
  /** The participant's alias: `alias`, `user@host[:port]` or a SIP URI. */
  destination: string;
  role: Role;
  /** The participant's name in the conference; else the alias. */
  displayName?: string;
  /** The conference alias the callee sees the call from; else the first alias valid for SIP. */
  callerAlias?: string;
  /** The name the callee sees; else the conference's name. */
  callerName?: string;
  /** Who asked, for the log (dial, command, adp, gateway). */
  source: string;
  /** Our whole From (name-addr) instead of the conference's: a gateway call carries its caller's. */
  from?: string;
  /** Send the INVITE to this SIP proxy (host[:port]) instead of the destination's host. */
  proxy?: string;
  /** `rules`: routed by the outgoing Call Routing Rules (Route this call: Automatically; the client API's protocol `auto`). */
  routing?: 'manual' | 'rules';
  /** Keys sent once the call is answered (the guide: after 3 s, one every 0.5 s, a comma a 2-s pause). */
  dtmfSequence?: string;
  /** Media encryption instead of the service's (a Call Routing Rule's). */
  encryption?: MediaEncryption;
}

/** How a placed call ended up: answered (media flowing), or the final answer that refused it. */
export type DialOutcome = { answered: true } | { answered: false; status: number; reason: string };

/** The guide's DTMF sequence timing: 3 s after the call connects, a key every 0.5 s, a comma is a 2-s pause. */
export { DTMF_TIMING };

/** The reason a dialled participant leaves with when the call is not answered. */
function failure(status: number, reason: string): string {
  if (status === 408) return 'Call failed: no answer';
  return `Call rejected: ${status} ${reason}`;
}

/**
 * Outgoing SIP calls into a conference. The participant is in the conference from the moment it is
 * dialled (with its id, so `dial` answers at once, and its failure is in its history), the INVITE
 * carries our offer (SipCallLeg.offer), and once answered its media is mixed like an incoming call's.
 */
export class DialOut {
  constructor(
    private readonly manager: ConferenceManager,
    private readonly server: SipServer,
    private readonly log: Logger,
    /** The host of our From when the conference's alias has no domain (the node's address). */
    private readonly domain: string,
  ) {
    // Automatically Dialed Participants: once when the conference starts, after its first participant is in.
    manager.on('conferenceStarted', (conference) => setImmediate(() => this.dialAutomatic(conference)));
  }

  /** The guide: each ADP of the service is dialled once when a conference using it starts (one attempt). */
  private dialAutomatic(conference: Conference): void {
    if (!this.manager.conferences().includes(conference)) return;
    for (const adp of conference.service.automaticParticipants) {
      const base: DialOutRequest = {
        destination: adp.alias,
        role: adp.role === 'chair' ? 'HOST' : 'GUEST',
        ...(adp.displayName ? { displayName: adp.displayName } : {}),
        ...(adp.dtmfSequence ? { dtmfSequence: adp.dtmfSequence } : {}),
        source: 'adp',
      };
      const why = (reason: string) =>
        this.log.warn(
          { conference: conference.service.name, alias: adp.alias, protocol: adp.protocol, routing: adp.routing },
          `Automatically Dialed Participant not dialled: ${reason}`,
        );
      if (adp.routing === 'routing_rule') {
        // Routed automatically: the alias must match an outgoing Call Routing Rule, which says where and how.
        if ('refused' in this.place(conference, { ...base, routing: 'rules' })) why('no outgoing Call Routing Rule placing SIP calls matches its alias');
        continue;
      }
      if (adp.protocol !== 'sip' && adp.protocol !== 'auto') {
        why('only SIP calls are placed');
        continue;
      }
      this.dial(conference, base);
    }
  }

  /**
   * A call routed by the outgoing Call Routing Rules (guide: Route this call: Automatically): the
   * first matching rule's destination (its regex replace), SIP proxy and Media encryption; undefined
   * when none matches or the rule places another protocol.
   */
  routeOutgoing(req: DialOutRequest): DialOutRequest | undefined {
    const route = this.manager.directory.route(req.destination, {
      direction: 'outgoing',
      protocol: 'sip',
      location: this.manager.node?.systemLocation ?? null,
      registered: false,
    });
    if (route.kind !== 'gateway' || route.rule.outgoing_protocol !== 'sip') return undefined;
    return {
      ...req,
      routing: 'manual',
      destination: route.destination,
      ...(route.rule.sip_proxy_address ? { proxy: route.rule.sip_proxy_address } : {}),
      ...(route.rule.crypto_mode ? { encryption: route.rule.crypto_mode } : {}),
    };
  }

  /** The guide's caller ID: the first alias of the conference valid for SIP (user@domain), else the first alias at our address. */
  callerAlias(service: ServiceConfig): string {
    const aliases = service.aliases;
    return aliases.find((a) => /^[^@\s]+@[^@\s]+$/.test(a)) ?? `${aliases[0] ?? 'openmeet'}@${this.domain}`;
  }

  /** Places the call; returns the new participant at once (ringing). Nothing is thrown for a call that fails later. */
  dial(target: Conference | ServiceConfig, req: DialOutRequest): Participant | { refused: string } {
    const placed = this.place(target, req);
    return 'refused' in placed ? placed : placed.participant;
  }

  /** `dial`, with how the call turned out (a gateway answers its caller only once the callee has). */
  place(
    target: Conference | ServiceConfig,
    wanted: DialOutRequest,
  ): { participant: Participant; conference: Conference; outcome: Promise<DialOutcome> } | { refused: string } {
    // Routed manually, a call goes through the system location's SIP proxy when it has one (the guide);
    // a Call Routing Rule's calls through the rule's own (none: the destination's host).
    const sipProxy = this.manager.location?.sipProxy;
    const manual = wanted.source !== 'gateway' && !wanted.proxy && sipProxy ? { ...wanted, proxy: sipProxy } : wanted;
    const req = wanted.routing === 'rules' ? this.routeOutgoing(wanted) : manual;
    if (!req) return { refused: 'Gateway dial out failed' };
    const id = randomUUID();
    const service = 'service' in target ? target.service : target;
    // Only one of the conference's own aliases may be the caller ID.
    const asked = req.callerAlias?.replace(/^sips?:/i, '').toLowerCase();
    const own = asked && service.aliases.includes(asked) ? asked : undefined;
    const callerAlias = own ? (own.includes('@') ? own : `${own}@${this.domain}`) : this.callerAlias(service);
    const joined = this.manager.join({
      id,
      callDirection: 'out',
      displayName: req.displayName || req.destination.replace(/^sips?:/i, ''),
      alias: callerAlias,
      remoteAddress: '',
      protocol: 'sip',
      pin: undefined,
      grantedRole: req.role,
      route: { kind: 'service', service },
    });
    if (joined.kind !== 'joined') return { refused: joined.kind === 'full' ? 'Conference is full' : 'Gateway dial out failed' };
    const conference = joined.conference;
    if ('service' in target && conference !== target) {
      // The instance ended meanwhile and a new one started for this participant alone.
      joined.conference.remove(id, 'Gateway dial out failed');
      return { refused: 'Gateway dial out failed' };
    }
    const participant = joined.participant;
    this.log.info({ conference: conference.service.name, participant: id, destination: req.destination, role: req.role, source: req.source }, 'Dialling out');
    const outcome = this.call(conference, participant, req, callerAlias).catch((err: unknown): DialOutcome => {
      this.log.warn({ err, participant: id }, 'Dial-out failed');
      conference.remove(id, 'Gateway dial out failed');
      return { answered: false, status: 500, reason: 'Server Internal Error' };
    });
    return { participant, conference, outcome };
  }

  /** The DTMF sequence as SIP INFO (application/dtmf-relay) with the guide's timing; stops when the call does. */
  private async sendDtmf(callId: string, sequence: string, gone: () => boolean): Promise<void> {
    await new Promise((r) => setTimeout(r, DTMF_TIMING.startMs).unref());
    await sendKeysByInfo((...a) => this.server.sendInfo(...a), callId, sequence, gone);
  }

  /**
   * The INVITE to each target in turn (RFC 3263 §4.3): one that times out (408) or is unavailable
   * (503) passes the call to the next; any other answer is the call's.
   */
  private async placeInTurn(
    targets: readonly OutgoingCallOptions['peer'][],
    call: Omit<OutgoingCallOptions, 'peer'>,
    signal: AbortSignal,
    gone: () => boolean,
  ): Promise<ForkResult> {
    let result: ForkResult | undefined;
    for (const [i, peer] of targets.entries()) {
      const placed = this.server.placeCall({ ...call, peer });
      const cancel = () => placed.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      const answer = await placed.answer;
      signal.removeEventListener('abort', cancel);
      result = { answer, ...(answer.status < 300 ? { callId: placed.callId } : {}) };
      if ((answer.status !== 408 && answer.status !== 503) || i === targets.length - 1 || gone() || signal.aborted) break;
      this.log.info({ target: `${peer.transport}:${peer.address}:${peer.port}`, status: answer.status }, 'Dial-out target did not answer: trying the next');
    }
    return result!;
  }

  private async call(conference: Conference, participant: Participant, req: DialOutRequest, callerAlias: string): Promise<DialOutcome> {
    const refresh = setInterval(() => this.manager.refreshToken(conference, participant), (TOKEN_LIFETIME_S * 1000) / 3).unref();
    const ringing = new AbortController();
    // Set once known; read by the hang-up above, which may come first.
    const held: { callId?: string; leg?: SipCallLeg } = {};
    let gone = false;
    const left = (p: Participant) => {
      if (p !== participant) return;
      gone = true;
      conference.off('participantLeft', left);
      clearInterval(refresh);
      ringing.abort();
      held.leg?.close('Call disconnected');
      if (held.callId) this.server.hangUp(held.callId);
    };
    conference.on('participantLeft', left);
    const fail = (reason: string, status = 480, sipReason = 'Temporarily Unavailable'): DialOutcome => {
      held.leg?.close(reason);
      if (!gone) conference.remove(participant.id, reason);
      return { answered: false, status, reason: sipReason };
    };
    const cancelled = (): DialOutcome => ({ answered: false, status: 487, reason: 'Request Terminated' });
    if (!(conference.media instanceof MediasoupConferenceMedia)) return fail('Gateway dial out failed');
    let destination;
    let proxy;
    try {
      destination = await resolveSipDestination(req.destination);
      // Through a proxy: the Request-URI stays the destination's, the INVITE goes to the proxy (its SRV targets in turn).
      proxy = req.proxy ? (await resolveSipDestination(`proxy@${req.proxy.replace(/^sips?:/i, '')}`)).peers : undefined;
    } catch (err) {
      if (err instanceof SipDestinationError) {
        this.log.info({ participant: participant.id, destination: req.destination, why: err.message }, 'Dial-out destination refused');
        return fail('Gateway dial out failed', 404, 'Not Found');
      }
      throw err;
    }
    if (proxy && !destination.peer) destination = { ...destination, uri: `sip:${destination.alias}@${req.proxy!.replace(/^sips?:/i, '').split(';')[0]}` };
    const targets = proxy ?? destination.peers ?? [];
    const leg = (held.leg = new SipCallLeg(participant.id, conference.media, this.log, req.encryption ?? this.manager.cryptoMode(conference.service)));
    const offer = Buffer.from(await leg.offer());
    if (gone) return cancelled();
    const dialog: SipDialogHandlers = {
      ended: (reason) => fail(reason),
      ...reofferHandlers(() => leg, this.log),
      reinvite: async (sdp) => {
        try {
          return { status: 200, reason: 'OK', body: Buffer.from(await leg.negotiate(sdp)), contentType: 'application/sdp' };
        } catch (err) {
          if (err instanceof SipSdpError) return { status: 488, reason: 'Not Acceptable Here' };
          throw err;
        }
      },
    };
    const from = req.from ?? `"${(req.callerName ?? conference.service.name).replace(/["\\]/g, '')}" <sip:${callerAlias}>`;
    // A registered alias is called where it registered (every registration), else at its URI.
    const registrations = this.server.registrar?.lookup(destination.alias) ?? [];
    let result: ForkResult;
    if (registrations.length > 0 || targets.length === 0) {
      result = await forkToRegistrations(this.server, registrations, { from, body: offer, contentType: 'application/sdp', dialog, signal: ringing.signal });
    } else {
      result = await this.placeInTurn(
        targets,
        { target: destination.uri, from, to: `<${destination.uri}>`, body: offer, contentType: 'application/sdp', dialog },
        ringing.signal,
        () => gone,
      );
    }
    const { answer } = result;
    if (answer.status < 200 || answer.status >= 300) {
      this.log.info({ participant: participant.id, destination: req.destination, status: answer.status }, 'Dial-out not answered');
      return fail(failure(answer.status, answer.reason), answer.status, answer.reason);
    }
    const callId = (held.callId = result.callId);
    if (gone) {
      if (callId) this.server.hangUp(callId);
      return cancelled();
    }
    try {
      await leg.answered(answer.body.toString('utf8'));
    } catch (err) {
      if (callId) this.server.hangUp(callId);
      if (err instanceof SipSdpError) {
        this.log.info({ participant: participant.id, why: err.message }, 'Dial-out answer not usable');
        return fail('Call failed: no usable media', 488, 'Not Acceptable Here');
      }
      throw err;
    }
    if (gone) return cancelled();
    participant.leg = leg;
    participant.lastCallId = leg.id;
    // Keys a Host sends it (client API participant `dtmf`), and a gateway caller's own keys.
    if (callId)
      participant.sendDtmf = (digits) =>
        void sendKeysByInfo(
          (...a) => this.server.sendInfo(...a),
          callId,
          digits,
          () => gone,
        );
    conference.updated(participant);
    leg.on('closed', () => {
      if (participant.leg === leg) participant.leg = null;
    });
    this.log.info({ participant: participant.id, destination: req.destination }, 'Dial-out answered');
    if (req.dtmfSequence && callId) void this.sendDtmf(callId, req.dtmfSequence, () => gone);
    return { answered: true };
  }
}
