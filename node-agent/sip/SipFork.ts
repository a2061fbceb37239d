import { isIP } from 'node:net';
import type { Registration } from './registrar/Registrar.js';
import type { OutgoingCall, OutgoingCallAnswer, OutgoingCallOptions, SipDialogHandlers, SipServer } from './SipServer.js';

export interface ForkedCall {
  /** Our From (name-addr), e.g. the caller's display name and alias. */
  from: string;
  body?: Buffer;
  contentType?: string;
  dialog: SipDialogHandlers;
  onProvisional?(status: number): void;
  /** Aborted: every leg still ringing is CANCELled and the fork ends with 487. */
  signal?: AbortSignal;
}

export interface ForkResult {
  /** The winner's 2xx, or the answer the call fails with. */
  answer: OutgoingCallAnswer;
  /** The call that was answered (hang up with SipServer.hangUp). */
  callId?: string;
  /** Which registration answered. */
  registration?: Registration;
}

/** Where an INVITE to a registration goes: its Contact, or where its REGISTER came from when it is behind a NAT. */
export function registrationPeer(r: Registration): OutgoingCallOptions['peer'] {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(r.contact);
  const host = (m?.[1] ?? '').replace(/^\[|\]$/g, '');
  if (r.isNatted || !isIP(host)) return { transport: r.transport, address: r.remoteAddress, port: r.remotePort };
  return { transport: r.transport, address: host, port: Number(m?.[2] ?? (r.transport === 'tls' ? 5061 : 5060)) };
}

/** Among failures, the one to report (RFC 3261 §16.7: a 6xx wins, then the lowest class, 408 last). */
function rank(a: OutgoingCallAnswer): number {
  if (a.status >= 600) return 0;
  if (a.status === 408) return 1000;
  return a.status;
}

/**
 * Calls every registration of an alias at once (guide: "multiple registrations of one alias mean
 * the call is forked to all of them"): the first 2xx wins and the others are CANCELled; a 6xx
 * ends the search. With no registration the answer is 404.
 */
export async function forkToRegistrations(server: SipServer, registrations: readonly Registration[], call: ForkedCall): Promise<ForkResult> {
  if (registrations.length === 0) return { answer: { status: 404, reason: 'Not Found', body: Buffer.alloc(0), headers: new Map() } };
  const legs: { call: OutgoingCall; registration: Registration }[] = [];
  return new Promise<ForkResult>((resolve) => {
    let settled = false;
    const failures: OutgoingCallAnswer[] = [];
    const settle = (result: ForkResult) => {
      if (settled) return;
      settled = true;
      for (const leg of legs) if (leg.call.callId !== result.callId) leg.call.cancel();
      resolve(result);
    };
    call.signal?.addEventListener('abort', () => settle({ answer: { status: 487, reason: 'Request Terminated', body: Buffer.alloc(0), headers: new Map() } }), {
      once: true,
    });
    for (const registration of registrations) {
      const leg = server.placeCall({
        target: registration.contact,
        peer: registrationPeer(registration),
        from: call.from,
        to: `<sip:${registration.alias}>`,
        body: call.body,
        contentType: call.contentType,
        dialog: call.dialog,
        onProvisional: (status) => (settled ? undefined : call.onProvisional?.(status)),
      });
      legs.push({ call: leg, registration });
      void leg.answer.then((answer) => {
        if (answer.status >= 200 && answer.status < 300) {
          // A second 2xx: ended (SipServer hangs up a call answered across our CANCEL; this covers the rest).
          if (settled) return server.hangUp(leg.callId);
          settle({ answer, callId: leg.callId, registration });
          return;
        }
        failures.push(answer);
        if (answer.status >= 600 || failures.length === registrations.length) settle({ answer: failures.sort((a, b) => rank(a) - rank(b))[0]! });
      });
    }
  });
}
