import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { RemoteLegMessage, RemoteLegParticipant, SessionMethod } from '../../../shared/node-protocol/remoteMedia.js';
import {
  MediaRequestError,
  type ConsumerInfo,
  type ConsumerPreferences,
  type MeasuredStream,
  type MediaJson,
  type MediaKind,
  type MediaSourceKind,
  type MultiStreamSession,
  type MultiStreamSessionEvents,
  type TransportInfo,
} from '../MediaTypes.js';
import { PendingReplies } from './PendingReplies.js';

const REPLY_TIMEOUT_MS = 10_000;

export interface RemoteSessionOptions {
  participantId: string;
  mediaNode: { id: number; name: string };
  conference: string;
  participant: RemoteLegParticipant;
  /** To the media node (through the management server). */
  send: (msg: RemoteLegMessage) => void;
  replyTimeoutMs?: number;
  /** A session signalled on a proxying edge node: the node forwarding the client's media (status `proxy_node`). */
  proxyNode?: { id: number; name: string };
  /** With `proxyNode`: a transport as the client is to reach it (through that node's relay). */
  viaEdge?: (transport: TransportInfo) => Promise<TransportInfo>;
}

/**
 * A multi-stream client's session (our meeting client) whose media another node handles (media
 * allocation, rule 7): the client's requests reach this node as always and go on to the media
 * node's session, whose transports, consumers and events come back here. The client connects its
 * transports to the media node directly, or through a proxying edge node's relays (`viaEdge`).
 */
export class RemoteSession extends EventEmitter<MultiStreamSessionEvents> implements MultiStreamSession {
  readonly id = randomUUID();
  private seq = 0;
  private isClosed = false;
  private joined: { resolve: (t: { send: TransportInfo; recv: TransportInfo }) => void; reject: (err: Error) => void; timer: NodeJS.Timeout } | null = null;
  private readonly pending = new PendingReplies<unknown>();
  /** The client's producers by source, as it made them (status: producerSources). */
  private readonly producers = new Map<string, MediaSourceKind>();

  constructor(private readonly opts: RemoteSessionOptions) {
    super();
  }

  get participantId(): string {
    return this.opts.participantId;
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

  join(rtpCapabilities: MediaJson): Promise<{ send: TransportInfo; recv: TransportInfo }> {
    if (this.isClosed || this.joined) return Promise.reject(new MediaRequestError('Session already joined'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`media node ${this.opts.mediaNode.name} did not answer`)), this.opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS);
      this.joined = { resolve, reject, timer };
      this.opts.send({
        kind: 'session_open',
        legId: this.id,
        conference: this.opts.conference,
        participant: this.opts.participant,
        rtpCapabilities,
      });
    });
  }

  connectTransport(transportId: string, dtlsParameters: MediaJson): Promise<void> {
    return this.call('connectTransport', [transportId, dtlsParameters]).then(() => undefined);
  }

  async produce(transportId: string, opts: { kind: MediaKind; rtpParameters: MediaJson; source: MediaSourceKind; paused?: boolean }): Promise<string> {
    const id = String(await this.call('produce', [transportId, opts]));
    this.producers.set(id, opts.source);
    return id;
  }

  async restartIce(transportId: string): Promise<MediaJson> {
    return (await this.call('restartIce', [transportId])) as MediaJson;
  }

  pauseProducer(producerId: string): Promise<void> {
    return this.call('pauseProducer', [producerId]).then(() => undefined);
  }

  resumeProducer(producerId: string): Promise<void> {
    return this.call('resumeProducer', [producerId]).then(() => undefined);
  }

  closeProducer(producerId: string): void {
    this.producers.delete(producerId);
    this.call('closeProducer', [producerId]).catch(() => undefined);
  }

  resumeConsumer(consumerId: string): Promise<void> {
    return this.call('resumeConsumer', [consumerId]).then(() => undefined);
  }

  setConsumerPreferences(consumerId: string, prefs: ConsumerPreferences): Promise<void> {
    return this.call('setConsumerPreferences', [consumerId, prefs]).then(() => undefined);
  }

  replayConsumers(): void {
    this.call('replayConsumers', []).catch(() => undefined);
  }

  /** The presentation floor moved on: the media node closes this client's screen stream. */
  stopPresentation(): void {
    for (const [id, source] of this.producers) if (source === 'screen') this.producers.delete(id);
    this.call('stopPresentation', []).catch(() => undefined);
  }

  producerSources(): MediaSourceKind[] {
    return [...this.producers.values()];
  }

  async mediaStreams(): Promise<MeasuredStream[]> {
    return ((await this.call('mediaStreams', []).catch(() => [])) as MeasuredStream[]) ?? [];
  }

  close(): void {
    if (this.isClosed) return;
    this.opts.send({ kind: 'close', legId: this.id, reason: 'Session closed' });
    this.ended('Session closed');
  }

  /** A message from the media node about this session. */
  receive(msg: RemoteLegMessage): void {
    switch (msg.kind) {
      case 'session_joined': {
        const joined = this.joined;
        if (!joined) return;
        clearTimeout(joined.timer);
        const send = msg.send as TransportInfo;
        const recv = msg.recv as TransportInfo;
        const viaEdge = this.opts.viaEdge;
        if (!viaEdge) return joined.resolve({ send, recv });
        Promise.all([viaEdge(send), viaEdge(recv)]).then(
          ([s, r]) => joined.resolve({ send: s, recv: r }),
          (err: unknown) => {
            joined.reject(new MediaRequestError(err instanceof Error ? err.message : String(err)));
            this.close();
          },
        );
        return;
      }
      case 'session_result':
      case 'failed': {
        if (msg.kind === 'failed' && msg.seq === 0) {
          if (this.joined) {
            clearTimeout(this.joined.timer);
            this.joined.reject(new MediaRequestError(msg.reason));
          }
          return;
        }
        this.pending.settle(msg.seq, msg.kind === 'failed' ? { error: new MediaRequestError(msg.reason) } : { value: msg.result });
        return;
      }
      case 'session_event':
        if (this.isClosed) return;
        if (msg.event === 'consumerAdded') this.emit('consumerAdded', msg.arg as ConsumerInfo);
        else if (msg.event === 'producerClosed') {
          this.producers.delete(String(msg.arg));
          this.emit('producerClosed', String(msg.arg));
        } else this.emit(msg.event, String(msg.arg));
        return;
      case 'close':
        this.ended(msg.reason);
        return;
      default:
        return;
    }
  }

  private call(method: SessionMethod, args: unknown[]): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new MediaRequestError('Session closed'));
    const seq = ++this.seq;
    const reply = this.pending.wait(seq, this.opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS, `media node ${this.opts.mediaNode.name} did not answer`);
    this.opts.send({ kind: 'session_call', legId: this.id, seq, method, args });
    return reply;
  }

  private ended(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.joined) {
      clearTimeout(this.joined.timer);
      this.joined.reject(new MediaRequestError(reason));
    }
    this.pending.failAll(new MediaRequestError(reason));
    this.emit('closed');
  }
}
