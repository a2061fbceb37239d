/**
 * Child process: the mediasoup SFU under test. A router from the node's MediasoupEngine (one
 * worker, the product's router codecs and WebRtcTransport settings); the Chromium publisher
 * connects a send transport with mediasoup-client; each receive-only subscriber (a werift peer)
 * gets a WebRtcTransport and one consumer per publisher producer, offered to it as SDP.
 * The benchmark reads the CPU of this process and of the worker process from /proc.
 */
import '../../node-agent/media/mediasoup/workerBin.js';
import pino from 'pino';
import type { types } from 'mediasoup';
import { MediasoupEngine } from '../../node-agent/media/mediasoup/MediasoupEngine.js';
import { answerDtls, consumerOffer, WERIFT_RTP_CAPABILITIES } from '../../node-agent/testing/consumerSdp.js';
import { LoopLag } from './loopLag.js';
import { serve } from '../../node-agent/testing/rpc.js';

const [min, max] = (process.env.BENCH_PORTS ?? '44000-44999').split('-').map(Number) as [number, number];
const engine = new MediasoupEngine(pino({ level: 'warn' }), { workers: 1 });
const router = await engine.createRouter();
const lag = new LoopLag();

/** As MediasoupConferenceMedia.transportOptions (the product's settings), on loopback. */
const transportOptions: types.WebRtcTransportOptions = {
  listenInfos: [
    { protocol: 'udp', ip: '127.0.0.1', portRange: { min, max } },
    { protocol: 'tcp', ip: '127.0.0.1', portRange: { min, max } },
  ],
  preferUdp: true,
  initialAvailableOutgoingBitrate: 1_000_000,
};

const WERIFT_CAPS = WERIFT_RTP_CAPABILITIES;

let publisher: types.WebRtcTransport | undefined;
const producers: types.Producer[] = [];
const subscribers = new Map<string, { transport: types.WebRtcTransport; consumers: types.Consumer[] }>();

const params = (t: types.WebRtcTransport) => ({ id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters });

async function sum(items: { getStats(): Promise<{ type: string; packetCount: number; byteCount: number }[]> }[], type: string) {
  let packets = 0;
  let bytes = 0;
  for (const stats of await Promise.all(items.map((i) => i.getStats()))) {
    for (const s of stats) {
      if (s.type !== type) continue;
      packets += s.packetCount;
      bytes += s.byteCount;
    }
  }
  return { packets, bytes };
}

serve({
  workerPids: async () => (await engine.workers()).map((w) => w.pid),
  routerCapabilities: () => router.rtpCapabilities,
  async createPublisherTransport() {
    publisher = await router.createWebRtcTransport(transportOptions);
    await publisher.setMaxIncomingBitrate(2_500_000);
    return params(publisher);
  },
  async connectPublisher({ dtlsParameters }: { dtlsParameters: types.DtlsParameters }) {
    await publisher!.connect({ dtlsParameters });
  },
  async produce({ kind, rtpParameters }: { kind: types.MediaKind; rtpParameters: types.RtpParameters }) {
    const producer = await publisher!.produce({ kind, rtpParameters });
    producers.push(producer);
    return producer.id;
  },
  closePublisher() {
    publisher?.close();
    publisher = undefined;
    producers.length = 0;
  },
  /** A transport and a paused consumer per producer for subscriber `id`; returns the SDP offer for it. */
  async addSubscriber({ id }: { id: string }) {
    const transport = await router.createWebRtcTransport(transportOptions);
    const consumers: types.Consumer[] = [];
    for (const producer of producers) {
      if (!router.canConsume({ producerId: producer.id, rtpCapabilities: WERIFT_CAPS })) throw new Error(`cannot consume ${producer.kind}`);
      consumers.push(await transport.consume({ producerId: producer.id, rtpCapabilities: WERIFT_CAPS, paused: true }));
    }
    // Resume once DTLS is up (no packet is sent into the void) and ask for a keyframe, as the product does.
    transport.on('dtlsstatechange', (state) => {
      if (state !== 'connected') return;
      for (const c of consumers) {
        void c
          .resume()
          .then(() => (c.kind === 'video' ? c.requestKeyFrame() : undefined))
          .catch(() => undefined);
      }
    });
    subscribers.set(id, { transport, consumers });
    return consumerOffer({
      ...params(transport),
      consumers: consumers.map((c) => ({ kind: c.kind, rtpParameters: c.rtpParameters, streamId: 'publisher', trackId: `${c.kind}-${c.id}` })),
    });
  },
  async subscriberAnswer({ id, answer }: { id: string; answer: string }) {
    const sub = subscribers.get(id);
    if (!sub) throw new Error(`no subscriber ${id}`);
    await sub.transport.connect({ dtlsParameters: answerDtls(answer) });
  },
  removeSubscriber({ id }: { id: string }) {
    subscribers.get(id)?.transport.close();
    subscribers.delete(id);
  },
  removeSubscribers() {
    for (const s of subscribers.values()) s.transport.close();
    subscribers.clear();
  },
  /** Packet counters from getStats(): in = the publisher's producers, out = every consumer (sent to subscribers). */
  async counters() {
    const inbound = await sum(producers, 'inbound-rtp');
    const outbound = await sum(
      [...subscribers.values()].flatMap((s) => s.consumers),
      'outbound-rtp',
    );
    return { packetsIn: inbound.packets, packetsOut: outbound.packets, bytesOut: outbound.bytes };
  },
  lagReset: () => lag.reset(),
  lagRead: () => lag.read(),
  close() {
    for (const s of subscribers.values()) s.transport.close();
    publisher?.close();
    engine.close();
    setTimeout(() => process.exit(0), 300);
  },
});
