/**
 * What a pipe costs: the mediasoup workers' CPU per forwarded packet when one video stream fans
 * out to N receivers on its own router, and when it is piped (router.pipeToRouter, as a conference
 * that outgrew its router does: ConferenceRouters) to a router on the other worker whose N
 * receivers get it there. Prints JSON.
 *
 *   npx tsx bench/pipe-forwarding.ts [seconds=8] [pps=500]
 *
 * The stream enters through a PlainTransport from a UDP socket in this process (synthetic VP8
 * RTP, 1,000-byte payloads, `pps` packets per second); each receiver is a PlainTransport consumer
 * sending to a UDP sink in this process. Only the workers' CPU (utime + stime from /proc, both
 * workers) is counted, so the feeding and sinking here do not weigh. cpuUsPerPacketOut = worker CPU
 * / packets the receivers were sent (consumer stats); pipeUsPerPacketIn = the piped run's extra worker
 * CPU / packets that crossed the pipe. /proc counts CPU in 10 ms ticks: use runs of several seconds.
 */
import '../node-agent/media/mediasoup/workerBin.js';
import { createSocket } from 'node:dgram';
import pino from 'pino';
import type { types } from 'mediasoup';
import { MediasoupEngine } from '../node-agent/media/mediasoup/MediasoupEngine.js';
import { cpuSeconds } from './support/procStats.js';

const SECONDS = Number(process.argv[2] ?? 8);
const PPS = Number(process.argv[3] ?? 500);
const FAN_OUTS = [1, 4, 16];
const SSRC = 0x1234_5678;

const engine = new MediasoupEngine(pino({ level: 'warn' }), { workers: 2 });
const workerPids = (await engine.workers()).map((w) => w.pid);
const sink = createSocket('udp4');
let sunk = 0;
sink.on('message', () => sunk++);
await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
const sinkPort = sink.address().port;
const source = createSocket('udp4');
await new Promise<void>((r) => source.bind(0, '127.0.0.1', r));

const plain = (router: types.Router, comedia: boolean) =>
  router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia });

async function run(piped: boolean, fanOut: number) {
  const home = await engine.createRouter();
  const far = piped ? await engine.createRouter([home]) : home;
  if (piped && engine.sameWorker(home, far)) throw new Error('the two routers share a worker');
  const codec = home.rtpCapabilities.codecs!.find((c) => c.mimeType === 'video/VP8')!;
  const input = await plain(home, true);
  const producer = await input.produce({
    kind: 'video',
    rtpParameters: { codecs: [{ mimeType: codec.mimeType, payloadType: codec.preferredPayloadType!, clockRate: 90_000 }], encodings: [{ ssrc: SSRC }] },
  });
  if (piped) await home.pipeToRouter({ producerId: producer.id, router: far, enableSctp: false });
  const consumers: types.Consumer[] = [];
  for (let i = 0; i < fanOut; i++) {
    const out = await plain(far, false);
    await out.connect({ ip: '127.0.0.1', port: sinkPort });
    consumers.push(await out.consume({ producerId: producer.id, rtpCapabilities: far.rtpCapabilities }));
  }
  let seq = 0;
  const payload = Buffer.concat([Buffer.from([0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]), Buffer.alloc(993)]);
  const send = () => {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 0x80 | codec.preferredPayloadType!;
    header.writeUInt16BE(seq & 0xffff, 2);
    header.writeUInt32BE((seq * 3_000) >>> 0, 4);
    header.writeUInt32BE(SSRC, 8);
    seq++;
    source.send(Buffer.concat([header, payload]), input.tuple.localPort, '127.0.0.1');
  };
  // Batches every 10 ms keep the rate without a timer per packet.
  const perTick = PPS / 100;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) send();
  }, 10);
  await new Promise((r) => setTimeout(r, 1_000));
  const outBefore = await packetsOut(consumers);
  const cpuBefore = workerPids.map(cpuSeconds);
  const sunkBefore = sunk;
  await new Promise((r) => setTimeout(r, SECONDS * 1_000));
  const cpu = workerPids.map((pid, i) => cpuSeconds(pid) - cpuBefore[i]!);
  const total = cpu.reduce((a, b) => a + b, 0);
  const out = (await packetsOut(consumers)) - outBefore;
  const received = sunk - sunkBefore;
  clearInterval(timer);
  home.close();
  if (far !== home) far.close();
  return {
    piped,
    fanOut,
    packetsOut: out,
    packetsOutPerSec: Math.round(out / SECONDS),
    sinkReceived: received,
    workerCpuPct: cpu.map((c) => Math.round((c / SECONDS) * 1_000) / 10),
    workerCpuS: total,
    cpuUsPerPacketOut: out > 0 ? Math.round((total / out) * 1e6 * 100) / 100 : null,
  };
}

async function packetsOut(consumers: types.Consumer[]): Promise<number> {
  let n = 0;
  for (const c of consumers) for (const s of await c.getStats()) if (s.type === 'outbound-rtp') n += s.packetCount;
  return n;
}

const results: Awaited<ReturnType<typeof run>>[] = [];
for (const fanOut of FAN_OUTS) for (const piped of [false, true]) results.push(await run(piped, fanOut));
const byFan = FAN_OUTS.map((fanOut) => {
  const same = results.find((r) => r.fanOut === fanOut && !r.piped)!;
  const pipe = results.find((r) => r.fanOut === fanOut && r.piped)!;
  return {
    fanOut,
    pipedOverSameRouter: same.cpuUsPerPacketOut && pipe.cpuUsPerPacketOut ? Math.round((pipe.cpuUsPerPacketOut / same.cpuUsPerPacketOut) * 100) / 100 : null,
    // The pipe hop itself: the extra worker CPU per packet that crosses it.
    pipeUsPerPacketIn: Math.round(((pipe.workerCpuS - same.workerCpuS) / (PPS * SECONDS)) * 1e6 * 10) / 10,
  };
});
console.log(JSON.stringify({ seconds: SECONDS, ppsIn: PPS, payloadBytes: 1_000, results, ratio: byFan }, null, 2));
source.close();
sink.close();
engine.close();
setTimeout(() => process.exit(0), 300);
