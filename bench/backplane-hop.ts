/**
 * What a backplane hop costs (issue 14's figures): added one-way latency and the mediasoup workers'
 * CPU per stream when streams cross from one node's router to another node's over a pipe set up as
 * node-agent/media/backplane/Backplane.ts sets it up (PipeTransport with SRTP and RTX/NACK on each
 * side, one consumer and one producer per stream). The two "nodes" are two MediasoupEngines, each
 * its own worker process, on loopback. Prints JSON.
 *
 *   npx tsx bench/backplane-hop.ts [seconds=8] [streams=8] [pps=100]
 *
 * Each stream enters node A through a PlainTransport from a UDP socket here (synthetic VP8 RTP,
 * 1,000-byte payloads whose first bytes carry the send time); a receiver on node A (local) and one
 * on node B (across the backplane) each get every stream on a PlainTransport to a UDP sink here.
 * Latency is send → sink, median and p95, local against across. CPU: both workers' utime + stime
 * from /proc during a run with the backplane receivers, minus a run with the local receivers only,
 * per stream and per packet that crossed. /proc counts in 10 ms ticks: use runs of several seconds.
 */
import '../node-agent/media/mediasoup/workerBin.js';
import { createSocket } from 'node:dgram';
import pino from 'pino';
import type { types } from 'mediasoup';
import { MediasoupEngine } from '../node-agent/media/mediasoup/MediasoupEngine.js';
import { cpuSeconds } from './support/procStats.js';

const SECONDS = Number(process.argv[2] ?? 8);
const STREAMS = Number(process.argv[3] ?? 8);
const PPS = Number(process.argv[4] ?? 100);
const IP = '127.0.0.1';
/** Where in the RTP payload the send time goes: after the VP8 keyframe header. */
const STAMP_AT = 16;

const log = pino({ level: 'warn' });
const nodes = [new MediasoupEngine(log, { workers: 1 }), new MediasoupEngine(log, { workers: 1 })] as const;
const workerPids = (await Promise.all(nodes.map((n) => n.workers()))).flat().map((w) => w.pid);

/** A UDP sink here: the send → receipt delay of every packet, by path. */
function sink() {
  const socket = createSocket('udp4');
  const delays: number[] = [];
  socket.on('message', (rtp) => {
    // RTCP (sender reports) shares the port: not counted.
    if (rtp[1]! >= 192 && rtp[1]! <= 223) return;
    // Past the RTP header (CSRCs, header extensions) and the VP8 keyframe header, our 8-byte send time.
    let at = 12 + 4 * (rtp[0]! & 0x0f);
    if (rtp[0]! & 0x10) at += 4 + 4 * rtp.readUInt16BE(at + 2);
    at += STAMP_AT;
    if (rtp.length >= at + 8) delays.push(performance.now() - rtp.readDoubleBE(at));
  });
  return { socket, delays, ready: new Promise<void>((r) => socket.bind(0, IP, r)) };
}

const plain = (router: types.Router, comedia: boolean) => router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: IP }, rtcpMux: true, comedia });

async function run(across: boolean) {
  const [a, b] = await Promise.all(nodes.map((n) => n.createRouter()));
  const codec = a!.rtpCapabilities.codecs!.find((c) => c.mimeType === 'video/VP8')!;
  const local = sink();
  const far = sink();
  await Promise.all([local.ready, far.ready]);
  const source = createSocket('udp4');
  await new Promise<void>((r) => source.bind(0, IP, r));

  // The backplane: one pipe transport per side, as Backplane.ts opens it.
  const pipeOptions = { listenInfo: { protocol: 'udp' as const, ip: IP }, enableSrtp: true, enableRtx: true };
  const [pipeA, pipeB] = await Promise.all([a!.createPipeTransport(pipeOptions), b!.createPipeTransport(pipeOptions)]);
  await pipeA.connect({ ip: IP, port: pipeB.tuple.localPort, srtpParameters: pipeB.srtpParameters });
  await pipeB.connect({ ip: IP, port: pipeA.tuple.localPort, srtpParameters: pipeA.srtpParameters });

  const inputs: { port: number; ssrc: number }[] = [];
  const consumers: types.Consumer[] = [];
  for (let i = 0; i < STREAMS; i++) {
    const ssrc = 0x1000_0000 + i;
    const input = await plain(a!, true);
    const producer = await input.produce({
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: codec.mimeType, payloadType: codec.preferredPayloadType!, clockRate: 90_000 }], encodings: [{ ssrc }] },
    });
    inputs.push({ port: input.tuple.localPort, ssrc });
    const out = await plain(a!, false);
    await out.connect({ ip: IP, port: local.socket.address().port });
    consumers.push(await out.consume({ producerId: producer.id, rtpCapabilities: a!.rtpCapabilities }));
    if (!across) continue;
    const crossing = await pipeA.consume({ producerId: producer.id });
    const remote = await pipeB.produce({ id: producer.id, kind: 'video', rtpParameters: crossing.rtpParameters });
    const outB = await plain(b!, false);
    await outB.connect({ ip: IP, port: far.socket.address().port });
    consumers.push(await outB.consume({ producerId: remote.id, rtpCapabilities: b!.rtpCapabilities }));
  }

  let seq = 0;
  // A VP8 keyframe (descriptor, payload header, start code, size): receivers forward from a keyframe on.
  const payload = Buffer.concat([Buffer.from([0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]), Buffer.alloc(989)]);
  const send = () => {
    for (const { port, ssrc } of inputs) {
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = 0x80 | codec.preferredPayloadType!;
      header.writeUInt16BE(seq & 0xffff, 2);
      header.writeUInt32BE((seq * 3_000) >>> 0, 4);
      header.writeUInt32BE(ssrc, 8);
      payload.writeDoubleBE(performance.now(), STAMP_AT);
      source.send(Buffer.concat([header, payload]), port, IP);
    }
    seq++;
  };
  // Batches every 10 ms keep the rate without a timer per packet.
  let owed = 0;
  const timer = setInterval(() => {
    owed += PPS / 100;
    for (; owed >= 1; owed--) send();
  }, 10);
  await new Promise((r) => setTimeout(r, 1_000));
  local.delays.length = 0;
  far.delays.length = 0;
  const cpuBefore = workerPids.map(cpuSeconds);
  await new Promise((r) => setTimeout(r, SECONDS * 1_000));
  const cpu = workerPids.map((pid, i) => cpuSeconds(pid) - cpuBefore[i]!);
  clearInterval(timer);
  const crossed = far.delays.length;
  const stats = (d: number[]) => {
    const s = [...d].sort((x, y) => x - y);
    const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 100) / 100 : null);
    return { packets: s.length, medianMs: at(0.5), p95Ms: at(0.95) };
  };
  const result = { across, local: stats(local.delays), far: stats(far.delays), workerCpuS: cpu.reduce((x, y) => x + y, 0), crossed };
  for (const s of [local.socket, far.socket, source]) s.close();
  for (const c of consumers) c.close();
  a!.close();
  b!.close();
  return result;
}

const without = await run(false);
const withHop = await run(true);
const extraCpu = withHop.workerCpuS - without.workerCpuS;
console.log(
  JSON.stringify(
    {
      seconds: SECONDS,
      streams: STREAMS,
      ppsPerStream: PPS,
      payloadBytes: 1_000,
      localOnly: without,
      withBackplane: withHop,
      // The hop: one-way latency it adds (median, p95), and the workers' CPU it costs.
      addedLatencyMs: {
        median:
          withHop.far.medianMs !== null && withHop.local.medianMs !== null ? Math.round((withHop.far.medianMs - withHop.local.medianMs) * 100) / 100 : null,
        p95: withHop.far.p95Ms !== null && withHop.local.p95Ms !== null ? Math.round((withHop.far.p95Ms - withHop.local.p95Ms) * 100) / 100 : null,
      },
      // Both sides' pipe plus node B's receiver, against node A's receiver alone.
      cpuPctPerStream: Math.round((extraCpu / SECONDS / STREAMS) * 100 * 100) / 100,
      cpuUsPerCrossingPacket: withHop.crossed > 0 ? Math.round((extraCpu / withHop.crossed) * 1e6 * 10) / 10 : null,
    },
    null,
    2,
  ),
);
for (const n of nodes) n.close();
setTimeout(() => process.exit(0), 300);
