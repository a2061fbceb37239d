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
/** The longest a prompt may take to play on the media node (theme prompts are a few seconds). */
const PROMPT_TIMEOUT_MS = 30_000;

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

  protected override async exchange(sdp: string, late: boolean): Promise<string> {
    const local = await super.exchange(sdp, late);
    this.lastAnswer = local;
    return local;
  }

  /** A late offer (an INVITE without SDP): the media node's offer, answered in the phone's ACK (`answered`). */
  offer(): Promise<string> {
    return this.exchange('', true);
  }

  /** The phone's answer in its ACK, applied on the media node. */
  override async answered(answerSdp: string | null): Promise<void> {
    if (answerSdp) await super.answered(answerSdp);
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

  /**
   * Played on the media node (by name: its theme's file), once the phone's audio has arrived there;
   * resolves when it has been played (or after 30 s).
   */
  remotePrompt(name: PromptName): Promise<void> {
    if (this.closed) return Promise.resolve();
    const seq = ++this.seq;
    const played = this.pending.wait(seq, PROMPT_TIMEOUT_MS, 'prompt not played in time').then(
      () => undefined,
      () => undefined,
    );
    this.tell({ kind: 'prompt', legId: this.id, seq, name });
    return played;
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
    if (msg.kind === 'prompted') {
      this.pending.settle(msg.seq, { value: '' });
      return;
    }
    super.receive(msg);
  }
}
