import { EventEmitter } from 'node:events';
import type { RemoteLegMessage } from '../../shared/node-protocol/remoteMedia.js';
import { RemoteCallLeg, type RemoteCallLegOptions } from '../media/remote/RemoteCallLeg.js';
import type { DtmfDigit } from './dtmf/telephoneEvent.js';
import type { PromptName } from './ivr/prompts.js';
import type { SipKeypadEvents, SipLinePorts, SipMediaLeg } from './SipCallLeg.js';
import { SipSdpError } from './SipSdp.js';

/**
 * A SIP call whose media another node handles (media allocation, rule 7): this node keeps the
 * dialog (re-INVITEs, INFO, BYE) and the participant; the media node answers with its own plain
 * transport, so the phone's RTP goes there, and sends back the keys the phone pressed (RFC 4733).
 * Voice prompts are played there, from the service's theme, by name.
 */
export class RemoteSipCallLeg extends RemoteCallLeg implements SipMediaLeg {
  readonly keypad = new EventEmitter<SipKeypadEvents>();
  private lastAnswer: string | undefined;
  private version = 2;

  constructor(opts: RemoteCallLegOptions & { sip: NonNullable<RemoteCallLegOptions['sip']> }) {
    super(opts);
  }

  /** SDES-SRTP when the media node's answer is RTP/SAVP. */
  override get encrypted(): boolean {
    return this.lastAnswer !== undefined && /^m=audio \d+ RTP\/SAVP/m.test(this.lastAnswer);
  }

  override async negotiate(offerSdp: string): Promise<string> {
    const answer = await super.negotiate(offerSdp);
    this.lastAnswer = answer;
    return answer;
  }

  /** A call whose media is elsewhere is answered, never offered (late offers keep their media here). */
  offer(): Promise<string> {
    return Promise.reject(new SipSdpError('Late offer for media on another node'));
  }

  /** The phone's answer to a re-INVITE without an offer, applied there as an offer of its own. */
  override async answered(answerSdp: string | null): Promise<void> {
    if (answerSdp) await this.negotiate(answerSdp);
  }

  /** A re-INVITE without an offer: the media node's last answer again, its version raised, sending and receiving. */
  reoffer(): string {
    if (!this.lastAnswer) throw new SipSdpError('No session to offer yet');
    return this.lastAnswer.replace(/^(o=\S+ \S+ )\d+/m, `$1${this.version++}`).replace(/^a=(sendonly|recvonly|inactive)(\r?)$/gm, 'a=sendrecv$2');
  }

  /** A key by SIP INFO: the same as one by RFC 4733. */
  keyed(digit: DtmfDigit): void {
    this.keypad.emit('dtmf', digit);
  }

  /** Played on the media node (by name: its theme's file), once the phone's audio has arrived there. */
  remotePrompt(name: PromptName): void {
    this.tell({ kind: 'prompt', legId: this.id, name });
  }

  async play(): Promise<void> {}

  async heard(): Promise<void> {}

  /** Its ports are the media node's: such a call is never moved to other media (see SipCalls.transfer). */
  localPorts(): SipLinePorts {
    return {};
  }

  override receive(msg: RemoteLegMessage): void {
    if (msg.kind === 'dtmf') {
      if (!this.closed) this.keypad.emit('dtmf', msg.digit);
      return;
    }
    super.receive(msg);
  }
}
