import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RoutingRuleConfig } from '../../../shared/routing/callRouting.js';
import { serviceConfigSchema, type ServiceConfig } from '../../../shared/node-protocol/messages.js';
import type { Conference } from '../../conference/Conference.js';
import type { ConferenceManager, JoinRequest, JoinResult } from '../../conference/ConferenceManager.js';
import type { Participant } from '../../conference/Participant.js';
import { TOKEN_LIFETIME_S } from '../../conference/Participant.js';
import type { PolicyRoute } from '../../conference/ServicePolicy.js';
import { MediasoupConferenceMedia } from '../../media/mediasoup/MediasoupConferenceMedia.js';
import type { DialOut, DialOutRequest } from '../dialout/DialOut.js';
import { SipCallLeg } from '../SipCallLeg.js';
import { reofferHandlers } from '../reoffer.js';
import { parseSipOffer, SipSdpError } from '../SipSdp.js';
import type { IncomingSipCall, SipInviteAnswer } from '../SipServer.js';

type GatewayRoute = Extract<PolicyRoute, { kind: 'gateway' }>;

const notAcceptable = (why: string): SipInviteAnswer => ({
  status: 488,
  reason: 'Not Acceptable Here',
  extra: [['Warning', `399 openmeet "${why.replace(/"/g, "'")}"`]],
});

/**
 * Gateway calls (guide: Call Routing Rules): a caller whose alias matches a rule, and no service,
 * is connected to the rule's destination over SIP. The two legs meet in a conference of their own
 * (named after the rule), so the media is bridged by the same mix and transcoding as meetings;
 * when either side leaves, the other is hung up. A SIP caller is answered only once the callee has
 * (its ringing and refusals are the callee's); a WebRTC caller is in at once and the callee rings.
 */
export class GatewayCalls {
  private next = 0;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly dialOut: DialOut,
    private readonly log: Logger,
    /** Our address, the host of a WebRTC caller's From. */
    private readonly domain: string,
  ) {}

  /** The rule as configured (a policy server's route names the rule only). */
  private rule(route: GatewayRoute): RoutingRuleConfig | undefined {
    return this.manager.directory.routingRules.find((r) => r.name === route.rule.name);
  }

  /** A service of the call's own: one conference per gateway call, never listed by alias. */
  private service(route: GatewayRoute): ServiceConfig {
    const rule = this.rule(route);
    return serviceConfigSchema.parse({
      id: -1 - this.next++,
      name: `${route.rule.name} (${randomBytes(3).toString('hex')})`,
      serviceType: 'conference',
      pin: '',
      guestPin: '',
      allowGuests: false,
      participantLimit: 2,
      aliases: [],
      tag: rule?.tag ?? '',
      // The rule's Media encryption for both legs (null: the global setting).
      cryptoMode: rule?.crypto_mode ?? null,
    });
  }

  private callee(route: GatewayRoute, from: string): DialOutRequest {
    const rule = this.rule(route);
    return {
      destination: route.destination,
      role: 'HOST',
      displayName: route.destination.replace(/^sips?:/i, ''),
      from,
      ...(rule?.sip_proxy_address ? { proxy: rule.sip_proxy_address } : {}),
      source: 'gateway',
    };
  }

  /** When either leg leaves, the call is over: the other leg is hung up with the same reason. */
  private pair(conference: Conference): void {
    conference.gateway = true;
    const left = (_p: Participant, reason: string) => {
      conference.off('participantLeft', left);
      conference.end(reason);
    };
    conference.on('participantLeft', left);
  }

  /** A WebRTC caller (`request_token` on a rule's alias): in its gateway conference at once, the callee dialled. */
  joinWebRtc(req: JoinRequest, route: GatewayRoute): JoinResult {
    const rule = this.rule(route);
    if (rule && rule.outgoing_protocol !== 'sip') {
      this.log.info({ rule: rule.name, protocol: rule.outgoing_protocol }, 'Gateway call not placed: only SIP calls are placed');
      return { kind: 'not_found' };
    }
    const joined = this.manager.join({ ...req, grantedRole: 'HOST', route: { kind: 'service', service: this.service(route) } });
    if (joined.kind !== 'joined') return joined;
    const user = req.displayName.replace(/[^A-Za-z0-9._-]/g, '') || 'webrtc';
    const placed = this.dialOut.place(joined.conference, this.callee(route, `"${req.displayName.replace(/["\\]/g, '')}" <sip:${user}@${this.domain}>`));
    if ('refused' in placed) {
      joined.conference.end('Gateway dial out failed');
      return { kind: 'not_found' };
    }
    this.pair(joined.conference);
    this.log.info({ rule: route.rule.name, destination: route.destination, caller: req.displayName }, 'Gateway call from WebRTC');
    return joined;
  }

  /** A SIP caller: undefined unless a rule matches; else the callee's answer (200 once it answered). */
  async invite(call: Omit<IncomingSipCall, 'service'>): Promise<SipInviteAnswer | undefined> {
    const route = this.manager.directory.route(call.alias, {
      direction: 'incoming',
      protocol: 'sip',
      location: this.manager.node?.systemLocation ?? null,
      registered: false,
    });
    if (route.kind !== 'gateway') return undefined;
    if (this.manager.maintenanceMode) return { status: 503, reason: 'Service Unavailable' };
    const rule = this.rule(route);
    if (rule && rule.outgoing_protocol !== 'sip') return { status: 404, reason: 'Not Found' };
    const sdp = call.request.body.toString('utf8');
    if (!sdp.trim()) return notAcceptable('An INVITE without an SDP offer is not supported');
    const service = this.service(route);
    // Checked against the rule's encryption before the callee is rung.
    try {
      parseSipOffer(sdp, this.manager.cryptoMode(service));
    } catch (err) {
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      throw err;
    }
    const fromHeader = call.request.headers.get('from')?.[0] ?? '';
    const joined = this.manager.join({
      displayName: displayName(fromHeader) || call.alias,
      alias: call.alias,
      remoteAddress: call.remoteAddress,
      protocol: 'sip',
      pin: undefined,
      grantedRole: 'HOST',
      route: { kind: 'service', service },
    });
    if (joined.kind !== 'joined')
      return { status: joined.kind === 'maintenance' ? 503 : 404, reason: joined.kind === 'maintenance' ? 'Service Unavailable' : 'Not Found' };
    const { conference, participant } = joined;
    if (!(conference.media instanceof MediasoupConferenceMedia)) {
      conference.end('Call failed');
      return { status: 503, reason: 'Service Unavailable' };
    }
    this.log.info({ rule: route.rule.name, destination: route.destination, alias: call.alias }, 'Gateway call from SIP');
    // The callee sees the caller's From (without its tag).
    const placed = this.dialOut.place(conference, this.callee(route, fromHeader.replace(/;\s*tag=[^;]*/i, '')));
    if ('refused' in placed) {
      conference.end('Gateway dial out failed');
      return { status: 404, reason: 'Not Found' };
    }
    const outcome = await placed.outcome;
    if (!outcome.answered) {
      conference.end('Gateway dial out failed');
      return { status: outcome.status, reason: outcome.reason };
    }
    if (!this.manager.conferences().includes(conference)) return { status: 487, reason: 'Request Terminated' };
    const leg = new SipCallLeg(participant.id, conference.media, this.log, this.manager.cryptoMode(conference.service));
    let answer: string;
    try {
      answer = await leg.negotiate(sdp);
    } catch (err) {
      leg.close('Call failed');
      conference.end('Call failed');
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      throw err;
    }
    participant.leg = leg;
    participant.lastCallId = leg.id;
    conference.updated(participant);
    const refresh = setInterval(() => this.manager.refreshToken(conference, participant), (TOKEN_LIFETIME_S * 1000) / 3).unref();
    const callId = call.request.headers.get('call-id')?.[0] ?? '';
    const left = (p: Participant) => {
      if (p !== participant) return;
      conference.off('participantLeft', left);
      clearInterval(refresh);
      leg.close('Call disconnected');
      this.hangUp(callId);
    };
    conference.on('participantLeft', left);
    this.pair(conference);
    return {
      status: 200,
      reason: 'OK',
      body: Buffer.from(answer),
      contentType: 'application/sdp',
      dialog: {
        ended: (reason) => {
          leg.close(reason);
          conference.remove(participant.id, reason);
        },
        ...reofferHandlers(() => leg, this.log),
        reinvite: async (offer) => {
          try {
            return { status: 200, reason: 'OK', body: Buffer.from(await leg.negotiate(offer)), contentType: 'application/sdp' };
          } catch (err) {
            if (err instanceof SipSdpError) return notAcceptable(err.message);
            throw err;
          }
        },
      },
    };
  }

  /** Set once the server exists: how the caller's call is hung up from our side. */
  hangUp: (callId: string) => void = () => undefined;
}

/** The From's display name, else its URI's user. */
function displayName(from: string): string {
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"/.exec(from);
  if (quoted?.[1]) return quoted[1];
  const bare = /^\s*([^<"]+?)\s*</.exec(from);
  if (bare?.[1]) return bare[1];
  return /<sips?:([^@>;]+)/.exec(from)?.[1] ?? '';
}
