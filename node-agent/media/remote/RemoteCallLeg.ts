import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RemoteLegMessage, RemoteLegParticipant } from '../../../shared/node-protocol/remoteMedia.js';
import type { CallKind } from '../../../shared/platform/mediaAllocation.js';
import type { CallLeg, CallLegEvents, CallLegStats } from '../MediaTypes.js';
import { PendingReplies } from './PendingReplies.js';

/** How long the media node has to answer an offer. */
const ANSWER_TIMEOUT_MS = 10_000;

export interface RemoteCallLegOptions {
  mediaNode: { id: number; name: string };
  /** The service's name: the media node's conference instance. */
  conference: string;
  participant: RemoteLegParticipant;
  call: CallKind;
  /** To the media node (through the management server). */
  send: (msg: RemoteLegMessage) => void;
  /** A proxying edge node carries the lineside media: the endpoint gets the answer as it rewrites it. */
  viaEdge?: (answerSdp: string) => Promise<string>;
  /** The proxying node forwarding the lineside media (status `proxy_node`). */
  proxyNode?: { id: number; name: string };
  answerTimeoutMs?: number;
  /** A SIP call: the media node answers with a plain transport (RemoteSipCallLeg). */
  sip?: { encryption: 'besteffort' | 'on' | 'off' };
}

/**
 * A participant's WebRTC call whose media another node handles (admin guide, rule 7 of "Handling
 * of media and signaling"): the signalling node keeps the call (offers, candidates, hang-up go
 * through here) and the media node answers with its own transport, so the endpoint's media goes
 * to it directly.
 */
export class RemoteCallLeg extends EventEmitter<CallLegEvents> implements CallLeg {
  readonly id = randomUUID();
  private opened = false;
  protected seq = 0;
  private isClosed = false;
  protected readonly pending = new PendingReplies<string>();
  private counts: CallLegStats = { packetsIn: { audio: 0, video: 0 }, packetsOut: { audio: 0, video: 0 } };

  constructor(private readonly opts: RemoteCallLegOptions) {
    super();
  }

  /** WebRTC: DTLS-SRTP on the media node. */
  get encrypted(): boolean {
    return true;
  }

  get mediaNode(): { id: number; name: string } {
    return this.opts.mediaNode;
  }

  get proxyNode(): { id: number; name: string } | undefined {
    return this.opts.proxyNode;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  negotiate(offerSdp: string): Promise<string> {
    return this.exchange(offerSdp, false);
  }

  /**
   * The endpoint's offer to the media node, answered there; or (`late`, a SIP INVITE without SDP,
   * only as the leg opens) the media node's offer, whose answer comes later (`answered`).
   */
  protected exchange(offerSdp: string, late: boolean): Promise<string> {
    if (this.isClosed) return Promise.reject(new Error('Call closed'));
    if (late && this.opened) return Promise.reject(new Error('Late offer after the call opened'));
    const seq = this.opened ? ++this.seq : 0;
    const answered = this.pending.wait(seq, this.opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS, `media node ${this.opts.mediaNode.name} did not answer`);
    if (!this.opened) {
      this.opened = true;
      this.opts.send({
        kind: 'open',
        legId: this.id,
        conference: this.opts.conference,
        participant: this.opts.participant,
        call: this.opts.call,
        sdp: offerSdp,
        ...(this.opts.sip ? { sip: late ? { ...this.opts.sip, late: true } : this.opts.sip } : {}),
      });
    } else this.opts.send({ kind: 'negotiate', legId: this.id, seq, sdp: offerSdp });
    return answered;
  }

  async addRemoteCandidate(candidate: string, mid: string | undefined): Promise<void> {
    if (!this.isClosed) this.opts.send({ kind: 'candidate', legId: this.id, candidate, ...(mid !== undefined ? { mid } : {}) });
  }

  async answered(answerSdp: string | null): Promise<void> {
    if (!this.isClosed) this.opts.send({ kind: 'answered', legId: this.id, sdp: answerSdp });
  }

  /** The participant's state changed here: its media follows on the media node. */
  setParticipant(participant: RemoteLegParticipant): void {
    if (!this.isClosed) this.opts.send({ kind: 'state', legId: this.id, participant });
  }

  /** The media node's latest packet counts. */
  stats(): CallLegStats {
    return this.counts;
  }

  close(reason = 'Call disconnected'): void {
    if (this.isClosed) return;
    if (this.opened) this.opts.send({ kind: 'close', legId: this.id, reason });
    this.ended(reason);
  }

  /** Sends the media node a message about this leg (while it is open). */
  protected tell(msg: RemoteLegMessage): void {
    if (!this.isClosed && this.opened) this.opts.send(msg);
  }

  /** A message from the media node about this leg. */
  receive(msg: RemoteLegMessage): void {
    switch (msg.kind) {
      case 'answer':
      case 'failed':
        if (!this.pending.has(msg.seq)) return;
        // Through an edge node, the endpoint gets the answer as that node rewrites it.
        this.pending.settle(
          msg.seq,
          msg.kind === 'failed' ? { error: new Error(msg.reason) } : { value: this.opts.viaEdge ? this.opts.viaEdge(msg.sdp) : msg.sdp },
        );
        return;
      case 'offer':
        if (!this.isClosed) this.emit('offer', msg.sdp);
        return;
      case 'connected':
        if (!this.isClosed) this.emit('connected');
        return;
      case 'stats':
        this.counts = { packetsIn: msg.packetsIn, packetsOut: msg.packetsOut };
        return;
      case 'close':
        // Closed there (media failed, the node stopping): nothing goes back.
        this.ended(msg.reason);
        return;
      default:
        return;
    }
  }

  private ended(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.pending.failAll(new Error(reason));
    this.emit('closed', reason);
  }
}
