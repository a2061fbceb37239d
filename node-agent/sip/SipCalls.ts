import type { Logger } from 'pino';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Participant } from '../conference/Participant.js';
import { TOKEN_LIFETIME_S } from '../conference/Participant.js';
import { MediasoupConferenceMedia } from '../media/mediasoup/MediasoupConferenceMedia.js';
import { SipCallLeg } from './SipCallLeg.js';
import { infoDigit } from './dtmf/sipInfoDtmf.js';
import { parseSipOffer, SipSdpError } from './SipSdp.js';
import type { IncomingSipCall, SipInviteAnswer } from './SipServer.js';

const notAcceptable = (why: string): SipInviteAnswer => ({
  status: 488,
  reason: 'Not Acceptable Here',
  extra: [['Warning', `399 openmeet "${why.replace(/"/g, "'")}"`]],
});

/**
 * SIP calls into conferences: an INVITE to a VMR alias joins the conference as a participant with
 * protocol "sip" (the PIN from `alias**PIN`), its media on plain RTP (SipCallLeg). The dialog's
 * BYE removes the participant; a participant removed by the platform gets our BYE.
 */
export class SipCalls {
  /** Set once the server exists: how a call is hung up from our side. */
  hangUp: (callId: string) => void = () => undefined;

  constructor(
    private readonly manager: ConferenceManager,
    private readonly log: Logger,
  ) {}

  async invite(call: IncomingSipCall): Promise<SipInviteAnswer> {
    const sdp = call.request.body.toString('utf8');
    // A late offer (INVITE without SDP, offer in our 200, answer in the ACK) is not done.
    if (!sdp.trim()) return notAcceptable('An INVITE without an SDP offer is not supported');
    let video: boolean;
    try {
      video = parseSipOffer(sdp).video !== undefined;
    } catch (err) {
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      throw err;
    }
    const joined = this.manager.join({
      displayName: displayName(call.request.headers.get('from')?.[0]) || call.alias,
      alias: call.alias,
      remoteAddress: call.remoteAddress,
      protocol: 'sip',
      pin: call.pin,
      // The call starts with the INVITE: its media is counted from now (audio only without a video offer).
      call: video ? 'hd' : 'audio',
      holdMedia: true,
    });
    switch (joined.kind) {
      case 'maintenance':
        return { status: 503, reason: 'Service Unavailable' };
      case 'no_capacity':
        return { status: 503, reason: 'Service Unavailable', extra: [['Warning', `399 openmeet "${joined.reason}"`]] };
      case 'not_found':
        return { status: 404, reason: 'Not Found' };
      case 'full':
        return { status: 486, reason: 'Busy Here' };
      case 'pin_required':
        // PIN entry by DTMF (the theme's prompts) is not done yet: dial alias**PIN.
        return { status: 403, reason: 'Forbidden', extra: [['Warning', '399 openmeet "PIN required: dial alias**PIN"']] };
      case 'invalid_pin':
        return { status: 403, reason: 'Forbidden', extra: [['Warning', '399 openmeet "Invalid PIN"']] };
    }
    const { conference, participant } = joined;
    if (!(conference.media instanceof MediasoupConferenceMedia)) {
      conference.remove(participant.id, 'Call failed');
      return { status: 503, reason: 'Service Unavailable' };
    }
    const leg = new SipCallLeg(participant.id, conference.media, this.log, this.manager.cryptoMode(conference.service));
    let answer: string;
    try {
      answer = await leg.negotiate(sdp);
    } catch (err) {
      leg.close('Call failed');
      conference.remove(participant.id, 'Call failed');
      if (err instanceof SipSdpError) return notAcceptable(err.message);
      this.log.warn({ err, participant: participant.id }, 'SIP call could not be answered');
      return { status: 500, reason: 'Server Internal Error' };
    }
    this.track(conference, participant, leg, call.request.headers.get('call-id')?.[0] ?? '');
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
        // DTMF by SIP INFO (application/dtmf-relay, application/dtmf): the same keys as RFC 4733.
        info: (contentType, body) => {
          const digit = infoDigit(contentType, body);
          if (digit) leg.keyed(digit);
        },
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

  /** The participant lives as long as its call: its token is kept fresh, and leaving sends our BYE. */
  private track(conference: Conference, participant: Participant, leg: SipCallLeg, callId: string): void {
    participant.leg = leg;
    participant.lastCallId = leg.id;
    conference.updated(participant);
    const refresh = setInterval(() => this.manager.refreshToken(conference, participant), (TOKEN_LIFETIME_S * 1000) / 3).unref();
    const left = (p: Participant) => {
      if (p !== participant) return;
      conference.off('participantLeft', left);
      clearInterval(refresh);
      leg.close('Call disconnected');
      this.hangUp(callId);
    };
    conference.on('participantLeft', left);
    leg.on('closed', () => {
      if (participant.leg === leg) participant.leg = null;
    });
    // The phone's keys: a Host's two-key commands (*7 lock, *5 mute Guests, ## end), as a client's call `dtmf`.
    leg.keypad.on('dtmf', (digit) => {
      this.log.debug({ participant: participant.id }, 'SIP DTMF key');
      if (conference.get(participant.id)) this.manager.control.callDtmf(conference, participant, digit);
    });
  }
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
