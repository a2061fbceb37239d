import type { Logger } from 'pino';
import type { SipCallLeg } from './SipCallLeg.js';
import type { SipDialogHandlers } from './SipServer.js';

/**
 * A dialog's answer to a re-INVITE without an offer (RFC 3261 §14.2, RFC 3264 §8), for the legs we
 * placed (dial-out, gateway): our session in the 200, the peer's answer in the ACK. Only the ACK of a
 * 2xx that carried our offer is read (the server calls `acked` for those alone). An unusable or
 * missing answer leaves the media as it was.
 */
export function reofferHandlers(leg: () => SipCallLeg | undefined, log: Logger): Required<Pick<SipDialogHandlers, 'reoffer' | 'acked'>> {
  let awaiting = false;
  return {
    reoffer: async () => {
      const l = leg();
      if (!l) return { status: 488, reason: 'Not Acceptable Here' };
      const body = Buffer.from(l.reoffer());
      awaiting = true;
      return { status: 200, reason: 'OK', body, contentType: 'application/sdp' };
    },
    acked: (answerSdp) => {
      if (!awaiting) return;
      awaiting = false;
      const l = leg();
      if (!l || !answerSdp.trim()) {
        log.info('SIP re-INVITE without an offer: the ACK has no answer; the media stays as it was');
        return;
      }
      l.negotiate(answerSdp).catch((err: unknown) =>
        log.info({ err }, 'SIP re-INVITE without an offer: the answer in the ACK was not usable; the media stays as it was'),
      );
    },
  };
}
