import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { BackplaneParticipant, BackplaneStream, BackplaneTransport, BackplaneType, NodeToServer } from '../../../shared/node-protocol/messages.js';
import type { MediaStream, StreamDirection } from '../../../shared/node-protocol/mediaStatus.js';
import type { MediasoupConferenceMedia } from '../mediasoup/MediasoupConferenceMedia.js';

/** A node at the other end of a backplane. */
export interface BackplanePeer {
  nodeId: number;
  name: string;
  location: string;
}

export interface BackplaneEvents {
  /** The other node's participants changed (the whole list). */
  roster: [participants: BackplaneParticipant[]];
  /** Both ends connected and the first streams of the other node arrived. */
  flowing: [];
  closed: [];
}

/** Coalesces bursts of stream changes (a join brings a microphone and a camera) into one offer. */
const ANNOUNCE_DELAY_MS = 20;

/**
 * This node's end of a backplane: one mediasoup PipeTransport on the conference's home router,
 * listening on the node's address and connected to the other node's (SRTP, with RTX/NACK as the
 * link crosses a network). Each side consumes its own participants' streams on its pipe and
 * offers them; the other produces them on its pipe and takes them as its own participants'
 * (MediasoupConferenceMedia.registerProducer, remote): its mixer mixes them for its single-stream
 * legs, its level observer hears them for voice switching, its multi-stream sessions receive them.
 * Only individual streams cross, never a mix, so nobody hears themselves; streams from a third
 * node are not passed on (every pair of nodes has its own backplane).
 */
export class Backplane extends EventEmitter<BackplaneEvents> {
  private transport: Promise<types.PipeTransport>;
  /** Local producer id → its consumer on the pipe. */
  private readonly outgoing = new Map<string, { consumer: types.Consumer; participantId: string; source: BackplaneStream['source'] }>();
  /** Remote producer id (the same id on both nodes) → the producer made here. */
  private readonly incoming = new Map<string, types.Producer>();
  private remoteParticipants: BackplaneParticipant[] = [];
  /** Peer messages and offers, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private announceTimer: NodeJS.Timeout | null = null;
  private stopListening: () => void = () => undefined;
  private connected = false;
  private flowed = false;
  private isClosed = false;
  readonly openedAt = new Date();

  constructor(
    readonly id: string,
    /** The service's name. */
    readonly conference: string,
    readonly peer: BackplanePeer,
    readonly type: BackplaneType,
    private readonly media: MediasoupConferenceMedia,
    /** This node's participants as the other node should list them. */
    private readonly localParticipants: () => BackplaneParticipant[],
    private readonly send: (msg: NodeToServer) => void,
    private readonly log: Logger,
  ) {
    super();
    this.transport = this.open();
    this.transport.catch((err: unknown) => {
      this.log.warn({ err, backplane: id }, 'backplane could not open');
      this.send({ type: 'backplane_closed', backplaneId: id, reason: 'Backplane could not open' });
      this.close();
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The other node's participants now. */
  get participants(): BackplaneParticipant[] {
    return this.remoteParticipants;
  }

  private async open(): Promise<types.PipeTransport> {
    const router = await this.media.routers.home;
    const { ip, portRange } = this.media.listenAddress;
    const transport = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip, portRange: { min: portRange[0], max: portRange[1] } },
      enableSrtp: true,
      enableRtx: true,
      appData: { backplane: this.id },
    });
    if (this.isClosed) {
      transport.close();
      throw new Error('backplane closed');
    }
    transport.observer.once('close', () => this.close());
    const srtp = transport.srtpParameters;
    this.send({
      type: 'backplane_transport',
      backplaneId: this.id,
      transport: { ip, port: transport.tuple.localPort, ...(srtp ? { srtp: { cryptoSuite: srtp.cryptoSuite, keyBase64: srtp.keyBase64 } } : {}) },
    });
    this.stopListening = this.media.onLocalStreams(() => this.announceSoon());
    this.announceSoon();
    return transport;
  }

  /** The other node's end: connect to it. */
  peerTransport(remote: BackplaneTransport): Promise<void> {
    return this.serial(async (transport) => {
      if (this.connected) return;
      await transport.connect({ ip: remote.ip, port: remote.port, ...(remote.srtp ? { srtpParameters: remote.srtp } : {}) });
      this.connected = true;
      this.log.info({ backplane: this.id, peer: this.peer.name, remote: `${remote.ip}:${remote.port}` }, 'backplane connected');
    });
  }

  /** The other node's participants and streams (whole lists): produce the new streams here, close the gone ones. */
  peerStreams(participants: BackplaneParticipant[], streams: BackplaneStream[]): Promise<void> {
    return this.serial(async (transport) => {
      const wanted = new Map(streams.map((s) => [s.producerId, s]));
      for (const [id, producer] of this.incoming) {
        if (wanted.has(id)) continue;
        this.incoming.delete(id);
        producer.close();
      }
      for (const s of wanted.values()) {
        if (this.incoming.has(s.producerId)) continue;
        try {
          const producer = await transport.produce({
            id: s.producerId,
            kind: s.kind,
            rtpParameters: s.rtpParameters as types.RtpParameters,
            appData: { participantId: s.participantId, source: s.source, backplane: this.id },
          });
          if (this.isClosed) {
            producer.close();
            return;
          }
          this.incoming.set(s.producerId, producer);
          producer.observer.once('close', () => {
            if (this.incoming.get(s.producerId) === producer) this.incoming.delete(s.producerId);
          });
          this.media.registerProducer(s.participantId, producer, s.source, true);
        } catch (err) {
          // A stream the worker refuses (parameters it cannot take) is left out; the rest go on.
          this.log.warn({ err, backplane: this.id, producer: s.producerId }, 'backplane stream refused');
        }
      }
      const gone = this.remoteParticipants.filter((p) => !participants.some((q) => q.id === p.id));
      this.remoteParticipants = participants;
      for (const p of gone) this.media.removeParticipant(p.id);
      // Their role counts here (a Virtual Auditorium's Guests see Hosts); mutes and hold are applied where they are served.
      for (const p of participants) {
        const role = p.role === 'chair' ? 'host' : 'guest';
        if (this.media.participantState(p.id).role !== role) this.media.setParticipant(p.id, { role, held: false });
      }
      this.emit('roster', participants);
      if (!this.flowed && this.connected && this.incoming.size > 0) {
        this.flowed = true;
        this.emit('flowing');
      }
    });
  }

  /** This node's participants changed (joined, left, renamed): offer the lists again. */
  announceSoon(): void {
    if (this.isClosed || this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      void this.serial((transport) => this.announce(transport)).catch((err: unknown) => this.log.warn({ err, backplane: this.id }, 'backplane offer failed'));
    }, ANNOUNCE_DELAY_MS);
    this.announceTimer.unref();
  }

  /** Consumes every local stream on the pipe (once each) and sends the whole offer. */
  private async announce(transport: types.PipeTransport): Promise<void> {
    const local = this.media.localStreams();
    const live = new Set(local.map((s) => s.producer.id));
    for (const [id, out] of this.outgoing) {
      if (live.has(id)) continue;
      this.outgoing.delete(id);
      out.consumer.close();
    }
    for (const s of local) {
      if (this.outgoing.has(s.producer.id)) continue;
      try {
        const consumer = await transport.consume({ producerId: s.producer.id });
        if (this.isClosed) return;
        this.outgoing.set(s.producer.id, { consumer, participantId: s.participantId, source: s.source });
        const forget = () => {
          if (this.outgoing.get(s.producer.id)?.consumer === consumer) this.outgoing.delete(s.producer.id);
        };
        consumer.observer.once('close', forget);
      } catch (err) {
        this.log.debug({ err, backplane: this.id, producer: s.producer.id }, 'stream not piped (closed meanwhile)');
      }
    }
    // What this node forwards to nobody (held, muted, video-muted) does not cross either: paused at the pipe.
    for (const out of this.outgoing.values()) {
      if (out.consumer.closed) continue;
      const st = this.media.participantState(out.participantId);
      const silent = st.held || (out.consumer.kind === 'audio' && st.muted === true) || (out.source === 'camera' && st.videoMuted === true);
      if (silent && !out.consumer.paused) await out.consumer.pause();
      else if (!silent && out.consumer.paused) await out.consumer.resume();
    }
    const streams: BackplaneStream[] = [...this.outgoing.entries()]
      .filter(([, o]) => !o.consumer.closed)
      .map(([producerId, o]) => ({
        producerId,
        participantId: o.participantId,
        kind: o.consumer.kind,
        source: o.source,
        rtpParameters: o.consumer.rtpParameters as BackplaneStream['rtpParameters'],
      }));
    this.send({ type: 'backplane_streams', backplaneId: this.id, participants: this.localParticipants(), streams });
  }

  /** Runs `step` after the transport exists and every earlier step is done. */
  private serial(step: (transport: types.PipeTransport) => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.isClosed) return;
      await step(await this.transport);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Closes this end: the other node's streams and participants leave this conference's media. */
  /**
   * What crosses this end of the backplane, by stream type: received from the other node (its
   * participants' streams, produced here) and sent to it (this node's, consumed on the pipe), summed
   * over the streams of that type. Bitrates are over the time since the last measurement.
   */
  async measure(): Promise<MediaStream[]> {
    const typeOf = (source: string | undefined): MediaStream['type'] => (source === 'mic' ? 'audio' : source === 'screen' ? 'presentation' : 'video');
    type Sum = { bitrate: number; packets: number; packetsLost: number };
    const sums = new Map<string, Sum>();
    const add = (key: string, stats: { type: string; bitrate?: number; packetCount?: number; packetsLost?: number }[], want: string) => {
      const sum = sums.get(key) ?? { bitrate: 0, packets: 0, packetsLost: 0 };
      for (const st of stats) {
        if (st.type !== want) continue;
        sum.bitrate += st.bitrate ?? 0;
        sum.packets += st.packetCount ?? 0;
        sum.packetsLost += Math.max(0, st.packetsLost ?? 0);
      }
      sums.set(key, sum);
    };
    for (const producer of this.incoming.values()) {
      if (producer.closed) continue;
      const source = (producer.appData as { source?: string }).source;
      add(`rx/${typeOf(source)}`, (await producer.getStats().catch(() => [])) as never, 'inbound-rtp');
    }
    for (const o of this.outgoing.values()) {
      if (o.consumer.closed) continue;
      add(`tx/${typeOf(o.source)}`, (await o.consumer.getStats().catch(() => [])) as never, 'outbound-rtp');
    }
    const direction = (s: Sum | undefined): StreamDirection | undefined => {
      if (!s) return undefined;
      const expected = s.packets + s.packetsLost;
      const loss = expected > 0 ? (s.packetsLost / expected) * 100 : 0;
      return { bitrate: s.bitrate / 1000, packets: s.packets, packetsLost: s.packetsLost, packetLoss: loss, windowedPacketLoss: loss };
    };
    const out: MediaStream[] = [];
    for (const type of ['audio', 'video', 'presentation'] as const) {
      const rx = direction(sums.get(`rx/${type}`));
      const tx = direction(sums.get(`tx/${type}`));
      if (!rx && !tx) continue;
      out.push({ id: `${this.id}/${type}`, type, startTime: this.openedAt.toISOString(), ...(rx ? { rx } : {}), ...(tx ? { tx } : {}) });
    }
    return out;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.announceTimer) clearTimeout(this.announceTimer);
    this.stopListening();
    for (const p of this.incoming.values()) p.close();
    this.incoming.clear();
    for (const p of this.remoteParticipants) this.media.removeParticipant(p.id);
    this.remoteParticipants = [];
    void this.transport.then((t) => t.close()).catch(() => undefined);
    this.log.info({ backplane: this.id, peer: this.peer.name }, 'backplane closed');
    this.emit('roster', []);
    this.emit('closed');
  }
}
