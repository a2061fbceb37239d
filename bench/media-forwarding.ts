/**
 * CPU per forwarded packet of the node's media plane, werift vs mediasoup, on the same publisher.
 * Prints JSON.
 *
 *   npx tsx bench/media-forwarding.ts [--quick] [--fake-camera] [--engines=werift|mediasoup] [--nice=-10]
 *
 * Publisher: one real Chromium page (a 640x360 30 fps canvas camera with moving shapes and a noisy
 * patch, VP8 capped at 600 kbps: ≈ 80 video + 50 Opus packets/s from the fake microphone;
 * --fake-camera: Chromium's fake camera, ≈ 90 packets/s in all, its picture is so simple), sending to the
 * SFU under test: a plain RTCPeerConnection to a werift leg, then mediasoup-client to a mediasoup
 * send transport (bench/support/publisherPage.ts). The same page and tracks for both engines.
 *
 * Subscribers: receive-only werift peers (real ICE, DTLS, SRTP, RTCP) in a child process of their
 * own (bench/support/subscribers.ts), 1, 2, 4, 8, 16, 32 of them (--quick: 1, 8, 32), added step by
 * step. werift subscribers join the werift SFU as MediaTestClient does (createLeg + negotiate);
 * mediasoup subscribers get a WebRtcTransport and a consumer per producer on the publisher's
 * router, offered to them as SDP (node-agent/testing/consumerSdp.ts).
 *
 * Each SFU runs in a child process of its own (bench/support/weriftSfu.ts, mediasoupSfu.ts), so
 * that its CPU is its own: utime+stime from /proc/<pid>/stat over the measurement window, for
 * werift the node process, for mediasoup the node process plus its worker process. Forwarded
 * packets = RTP packets the SFU sent to subscribers over the window (werift: the legs' stats();
 * mediasoup: the consumers' getStats() packetCount), cross-checked with what the subscribers
 * counted. Each point: warm-up 3 s, then a 10 s window (--quick: 2 s and 4 s). The event-loop lag
 * is the SFU node process's, from monitorEventLoopDelay over the window.
 *
 * The machine may be shared: the SFU's processes run at nice -10 (--nice=N) and each row also gives how long the SFU's event loop thread waited for a
 * core (/proc/<pid>/schedstat), how busy the whole machine was, and the CPU of Chromium and of the
 * subscribers. CPU time per packet holds up under load; event-loop lag does not (a thread that
 * waits for a core lags whatever its own cost).
 *
 * Everything listens on 127.0.0.1 and only loopback candidates are exchanged. The run stops by
 * itself (and gives up after HARD_LIMIT_MS).
 */
import { createServer, type Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../e2e/support/platform.js';
import { ensureMediasoupWorker } from '../scripts/mediasoup-worker.mjs';
import type { OutboundSample, VideoSource } from './support/publisherPage.js';
import { commandOf, cpuSeconds, cpuSecondsOf, hostTicks, processTree, renice, runQueueWaitSeconds } from './support/procStats.js';
import { Child } from '../node-agent/testing/rpc.js';

const QUICK = process.argv.includes('--quick');
/** --engines=werift or --engines=mediasoup runs one engine only (default: both). */
const ENGINES = (process.argv.find((a) => a.startsWith('--engines='))?.slice('--engines='.length) ?? 'werift,mediasoup').split(',');
const POINTS = QUICK ? [1, 8, 32] : [1, 2, 4, 8, 16, 32];
const WARMUP_MS = QUICK ? 2_000 : 3_000;
const WINDOW_MS = QUICK ? 4_000 : 10_000;
/** After the publisher connects: Chromium's bandwidth estimate ramps up before the first point. */
const PUBLISHER_RAMP_MS = QUICK ? 3_000 : 5_000;
const SOURCE = process.argv.includes('--fake-camera') ? ('fake' as const) : ('canvas' as const);
const VIDEO: VideoSource = { source: SOURCE, width: 640, height: 360, frameRate: 30, maxBitrate: 600_000 };
const HARD_LIMIT_MS = 15 * 60_000;
/** ICE + DTLS of one subscriber, and first media at all of them (generous: the machine may be shared). */
const CONNECT_TIMEOUT_MS = 30_000;
/**
 * Nice value for the SFU under test (its node process and mediasoup worker, not Chromium nor the
 * subscribers), so that other work on a shared machine does not starve it: a conferencing node
 * does not share its cores with compilers and test runs. --nice=0 leaves it as is.
 */
const SFU_NICE = Number(process.argv.find((a) => a.startsWith('--nice='))?.slice('--nice='.length) ?? -10);
let sfuNiceApplied = true;
/** DESIGN.md, Media targets: a bare mediasoup worker at fan-out 16-32, and the product's allowance on top. */
const DESIGN_US_PER_PACKET = { min: 15, max: 20, allowance: 0.1 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

type Engine = 'werift' | 'mediasoup';

interface Counters {
  packetsIn: number;
  packetsOut: number;
}

interface Row {
  subscribers: number;
  /** RTP packets/s the SFU received from the publisher. */
  ingressPps: number;
  /** RTP packets/s the SFU sent to the subscribers (its own counters). */
  forwardedPps: number;
  /** The same, counted by the subscribers. */
  receivedPpsAtSubscribers: number;
  /** CPU of one core, in %: the SFU node process, the mediasoup worker(s), and both. */
  cpuPercent: { node: number; worker?: number; total: number };
  /** CPU time of the SFU (total) per forwarded packet, in µs. */
  usPerPacket: number;
  /** mediasoup: the worker's CPU alone per forwarded packet. */
  usPerPacketWorker?: number;
  /** Extra CPU per extra forwarded packet since the previous point, in µs. */
  marginalUsPerPacket?: number;
  /** Event-loop lag of the SFU's node process over the window, in ms. */
  eventLoopLagMs: { p50: number; p95: number; p99: number; max: number };
  /** ms per second the SFU's node main thread waited for a core while runnable (other work on the machine). */
  sfuNodeRunQueueWaitMsPerS: number;
  /** What Chromium sent over the window. */
  publisher: { audioPps: number; videoPps: number; videoKbps: number; fps: number; resolution: string; qualityLimitation: string };
  /** CPU of the subscribers' process (not counted above), % of one core. */
  subscriberProcessCpuPercent: number;
  /** CPU of Chromium (all its processes: the publisher page, its encoder…), % of one core. */
  chromiumCpuPercent: number;
  /** The whole machine (Chromium, subscribers, SFU…) over the window, % of all its cores. */
  hostCpuBusyPercent: number;
  windowS: number;
}

// ---------------------------------------------------------------------------------------------
// The publisher page: bundled once, served on loopback (a secure context for getUserMedia).

async function servePage(): Promise<{ server: Server; url: string }> {
  const bundle = await build({
    entryPoints: [new URL('./support/publisherPage.ts', import.meta.url).pathname],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'warning',
  });
  const js = bundle.outputFiles[0]!.contents;
  const html = '<!doctype html><meta charset="utf-8"><title>media-forwarding publisher</title><script src="/publisher.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/publisher.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${addr.port}/` };
}

/** Only loopback ICE candidates are exchanged (Chromium and werift also gather the host's other addresses). */
function loopbackOnly(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(l))
    .join('\r\n');
}

// ---------------------------------------------------------------------------------------------
// One engine's ramp.

interface Sfu {
  child: Child;
  /** Worker processes whose CPU counts too (mediasoup). */
  workerPids: number[];
  /** Signalling for a new subscriber (the peer in the subscribers' process, its leg or transport here). */
  addSubscriber(id: string): Promise<void>;
  removeSubscriber(id: string): Promise<void>;
}

/** Joins subscriber `id`, waits until it is connected; on a loaded machine a join may time out: then once more under a new id. */
async function join(sfu: Sfu, subs: Child, id: string): Promise<string> {
  for (const attempt of [id, `${id}-retry`]) {
    try {
      await sfu.addSubscriber(attempt);
      await subs.call('waitConnected', { id: attempt, timeoutMs: CONNECT_TIMEOUT_MS }, CONNECT_TIMEOUT_MS + 5_000);
      return attempt;
    } catch (err) {
      if (attempt !== id) throw err;
      log(`${(err as Error).message.split('\n')[0]}; trying again`);
      await subs.call('drop', { id: attempt }).catch(() => undefined);
      await sfu.removeSubscriber(attempt).catch(() => undefined);
    }
  }
  throw new Error('unreachable');
}

/** Chromium's processes: the browser Playwright started (a child of this process) and its descendants. */
function chromiumProcesses(): number[] {
  return processTree(process.pid).filter((pid) => pid !== process.pid && commandOf(pid).startsWith('chrom'));
}

async function measure(engine: Engine, sfu: Sfu, subs: Child, page: Page, subscribers: number, previous: Row | undefined): Promise<Row> {
  // Threads the SFU started since (werift, mediasoup and Node start some lazily) get the same priority.
  if (SFU_NICE !== 0) for (const pid of [sfu.child.pid, ...sfu.workerPids]) sfuNiceApplied = renice(pid, SFU_NICE) && sfuNiceApplied;
  await sleep(WARMUP_MS);
  const chromiumPids = chromiumProcesses();
  const read = async () => {
    const at = performance.now();
    const node = cpuSeconds(sfu.child.pid);
    const worker = sfu.workerPids.reduce((s, pid) => s + cpuSeconds(pid), 0);
    const subsCpu = cpuSeconds(subs.pid);
    const chromium = cpuSecondsOf(chromiumPids);
    const host = hostTicks();
    const waited = runQueueWaitSeconds(sfu.child.pid);
    const [c, s, pub] = await Promise.all([
      sfu.child.call<Counters>('counters'),
      subs.call<{ packets: number }>('counters'),
      page.evaluate(() => window.bench.outbound()) as Promise<OutboundSample>,
    ]);
    return { at, node, worker, subsCpu, chromium, host, waited, c, s, pub };
  };
  const a = await read();
  await sfu.child.call('lagReset');
  await sleep(WINDOW_MS);
  const b = await read();
  const lag = await sfu.child.call<{ p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number }>('lagRead');
  const seconds = (b.at - a.at) / 1000;
  const pubSeconds = (b.pub.at - a.pub.at) / 1000;
  const forwarded = b.c.packetsOut - a.c.packetsOut;
  const nodeCpu = b.node - a.node;
  const workerCpu = b.worker - a.worker;
  const totalCpu = nodeCpu + workerCpu;
  const row: Row = {
    subscribers,
    ingressPps: round((b.c.packetsIn - a.c.packetsIn) / seconds),
    forwardedPps: round(forwarded / seconds),
    receivedPpsAtSubscribers: round((b.s.packets - a.s.packets) / seconds),
    cpuPercent: {
      node: round((100 * nodeCpu) / seconds),
      ...(engine === 'mediasoup' ? { worker: round((100 * workerCpu) / seconds) } : {}),
      total: round((100 * totalCpu) / seconds),
    },
    usPerPacket: round((1e6 * totalCpu) / Math.max(1, forwarded)),
    ...(engine === 'mediasoup' ? { usPerPacketWorker: round((1e6 * workerCpu) / Math.max(1, forwarded)) } : {}),
    eventLoopLagMs: { p50: lag.p50Ms, p95: lag.p95Ms, p99: lag.p99Ms, max: lag.maxMs },
    sfuNodeRunQueueWaitMsPerS: round((1000 * (b.waited - a.waited)) / seconds),
    publisher: {
      audioPps: round((b.pub.audio.packets - a.pub.audio.packets) / pubSeconds),
      videoPps: round((b.pub.video.packets - a.pub.video.packets) / pubSeconds),
      videoKbps: round((8 * (b.pub.video.bytes - a.pub.video.bytes)) / pubSeconds / 1000, 0),
      fps: round((b.pub.video.frames - a.pub.video.frames) / pubSeconds),
      resolution: `${b.pub.video.width}x${b.pub.video.height}`,
      qualityLimitation: b.pub.video.limitedBy,
    },
    subscriberProcessCpuPercent: round((100 * (b.subsCpu - a.subsCpu)) / seconds),
    chromiumCpuPercent: round((100 * (b.chromium - a.chromium)) / seconds),
    hostCpuBusyPercent: round((100 * (b.host.busy - a.host.busy)) / Math.max(1, b.host.total - a.host.total)),
    windowS: round(seconds, 2),
  };
  if (previous) {
    const dPps = row.forwardedPps - previous.forwardedPps;
    if (dPps > 0) row.marginalUsPerPacket = round(((row.cpuPercent.total - previous.cpuPercent.total) * 1e4) / dPps);
  }
  log(
    `${engine} ×${subscribers}: in ${row.ingressPps} pps, out ${row.forwardedPps} pps, CPU ${row.cpuPercent.total} %, ` +
      `${row.usPerPacket} µs/pkt, lag p95 ${row.eventLoopLagMs.p95} ms (waited for a core ${row.sfuNodeRunQueueWaitMsPerS} ms/s), host ${row.hostCpuBusyPercent} % busy, Chromium ${row.chromiumCpuPercent} %, subscribers ${row.subscriberProcessCpuPercent} %; publisher ${JSON.stringify(row.publisher)}`,
  );
  return row;
}

async function ramp(engine: Engine, sfu: Sfu, subs: Child, page: Page): Promise<Row[]> {
  await sleep(PUBLISHER_RAMP_MS);
  const rows: Row[] = [];
  const ids: string[] = [];
  for (const target of POINTS) {
    // One join at a time: werift picks a port in its range by probing (bind, close, bind again),
    // so two peer connections created at once in one process can pick the same port and hang.
    while (ids.length < target) ids.push(await join(sfu, subs, `${engine}-sub${ids.length}`));
    await subs.call('waitMedia', { ids, timeoutMs: CONNECT_TIMEOUT_MS }, CONNECT_TIMEOUT_MS + 5_000);
    rows.push(await measure(engine, sfu, subs, page, target, rows.at(-1)));
  }
  await subs.call('closeAll');
  return rows;
}

async function runWerift(subs: Child, page: Page): Promise<Row[]> {
  const child = new Child('bench/support/weriftSfu.ts', 'werift-sfu', { BENCH_PORTS: '41000-41999' });
  try {
    const offer = loopbackOnly(await page.evaluate(() => window.bench.weriftOffer()));
    const answer = loopbackOnly(await child.call<string>('join', { participantId: 'publisher', offer }));
    await page.evaluate((sdp) => window.bench.weriftAnswer(sdp), answer);
    const sfu: Sfu = {
      child,
      workerPids: [],
      async addSubscriber(id) {
        const subOffer = loopbackOnly(await subs.call<string>('offer', { id }));
        const subAnswer = loopbackOnly(await child.call<string>('join', { participantId: id, offer: subOffer }));
        await subs.call('accept', { id, answer: subAnswer });
      },
      async removeSubscriber(id) {
        await child.call('leave', { participantId: id });
      },
    };
    return await ramp('werift', sfu, subs, page);
  } finally {
    await page.evaluate(() => window.bench.stop()).catch(() => undefined);
    await child.stop();
  }
}

async function runMediasoup(subs: Child, page: Page, signal: { target: Child | undefined }): Promise<Row[]> {
  const child = new Child('bench/support/mediasoupSfu.ts', 'mediasoup-sfu', { BENCH_PORTS: '44000-44999' });
  signal.target = child;
  try {
    const workerPids = await child.call<number[]>('workerPids');
    await page.evaluate(() => window.bench.mediasoupStart());
    const sfu: Sfu = {
      child,
      workerPids,
      async addSubscriber(id) {
        const offer = await child.call<string>('addSubscriber', { id });
        const answer = loopbackOnly(await subs.call<string>('answer', { id, offer }));
        await child.call('subscriberAnswer', { id, answer });
      },
      async removeSubscriber(id) {
        await child.call('removeSubscriber', { id });
      },
    };
    return await ramp('mediasoup', sfu, subs, page);
  } finally {
    await page.evaluate(() => window.bench.stop()).catch(() => undefined);
    signal.target = undefined;
    await child.stop();
  }
}

// ---------------------------------------------------------------------------------------------

/** Least squares over an engine's points: CPU % = fixed + perPacket × forwarded pps (the cost at the margin). */
function fit(rows: Row[]) {
  const n = rows.length;
  if (n < 2) return null;
  const xs = rows.map((r) => r.forwardedPps);
  const ys = rows.map((r) => r.cpuPercent.total);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const slope = sxy / sxx;
  return { fixedCpuPercent: round(my - slope * mx), marginalUsPerPacket: round(slope * 1e4) };
}

function compare(werift: Row[], mediasoup: Row[]) {
  const at = (rows: Row[], n: number) => rows.find((r) => r.subscribers === n);
  const fanouts = POINTS.filter((n) => n >= 16);
  const ms = fanouts.map((n) => at(mediasoup, n)).filter((r): r is Row => r !== undefined);
  const limit = DESIGN_US_PER_PACKET.max * (1 + DESIGN_US_PER_PACKET.allowance);
  return {
    designFigure:
      'DESIGN.md: a bare mediasoup worker forwarded at 15-20 µs of CPU per packet at fan-out 16-32; the media plane should stay within 10 % of that',
    mediasoupUsPerPacketAtFanout16to32: Object.fromEntries(ms.map((r) => [r.subscribers, { total: r.usPerPacket, workerOnly: r.usPerPacketWorker }])),
    withinDesignTarget: ms.length > 0 && ms.every((r) => r.usPerPacket <= limit),
    designLimitUsPerPacket: round(limit),
    linearFit: { werift: fit(werift), mediasoup: fit(mediasoup) },
    weriftOverMediasoupCpuPerPacket: Object.fromEntries(
      POINTS.map((n) => {
        const w = at(werift, n);
        const m = at(mediasoup, n);
        return [n, w && m ? round(w.usPerPacket / m.usPerPacket, 2) : null];
      }),
    ),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const workerBin = ensureMediasoupWorker();
  const { server, url } = await servePage();
  let browser: Browser | undefined;
  const subs = new Child('bench/support/subscribers.ts', 'subscribers', { BENCH_PORTS: '42000-43999' });
  const signal: { target: Child | undefined } = { target: undefined };
  try {
    // The fake camera runs at 20 fps unless told otherwise.
    const args = CHROMIUM_ARGS.map((a) => (a === '--use-fake-device-for-media-stream' ? `${a}=fps=${VIDEO.frameRate}` : a));
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args });
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
    const page = await context.newPage();
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    // mediasoup-client's signalling goes to whichever mediasoup SFU is running.
    await page.exposeFunction('benchSignal', (method: string, params: unknown) => {
      if (!signal.target) throw new Error('no mediasoup SFU running');
      return signal.target.call(method, params ?? {});
    });
    await page.goto(url);
    await page.evaluate((v) => window.bench.openMedia(v), VIDEO);
    log(`publisher ready (${VIDEO.source} ${VIDEO.width}x${VIDEO.height}); points ${POINTS.join(', ')}; warm-up ${WARMUP_MS} ms, window ${WINDOW_MS} ms`);

    const werift = ENGINES.includes('werift') ? await runWerift(subs, page) : [];
    const mediasoup = ENGINES.includes('mediasoup') ? await runMediasoup(subs, page, signal) : [];
    const result = {
      benchmark: 'media-forwarding: CPU per forwarded RTP packet, one Chromium publisher (audio + video) → N receive-only werift subscribers',
      quick: QUICK,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        node: process.version,
        chromium: browser.version(),
        mediasoupWorker: workerBin,
        // Other work on the machine competes for the cores: see also each row's hostCpuBusyPercent.
        loadAverage1_5_15: { atStart: loadAtStart, atEnd: loadavg().map((x) => round(x, 2)) },
      },
      method: {
        publisher: `Chromium, ${VIDEO.source === 'fake' ? 'fake camera' : 'canvas camera'} ${VIDEO.width}x${VIDEO.height}@${VIDEO.frameRate} (VP8, max ${VIDEO.maxBitrate / 1000} kbps) + fake microphone (Opus); werift: RTCPeerConnection → WeriftConferenceMedia leg; mediasoup: mediasoup-client → WebRtcTransport producers`,
        subscribers: 'werift RTCPeerConnections, receive-only, one audio + one video stream each, in a separate process (CPU not counted)',
        cpu: 'utime+stime from /proc/<pid>/stat over the window; werift: the SFU node process; mediasoup: the SFU node process + its mediasoup worker',
        forwardedPackets: 'werift: sum of the legs stats().packetsOut; mediasoup: sum of the consumers getStats() outbound-rtp packetCount',
        sfuNice: sfuNiceApplied ? SFU_NICE : 0,
        warmupS: WARMUP_MS / 1000,
        windowS: WINDOW_MS / 1000,
      },
      werift,
      mediasoup,
      comparison: compare(werift, mediasoup),
      durationS: Math.round((Date.now() - started) / 1000),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await subs.stop().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    server.close();
  }
}

const hardLimit = setTimeout(() => {
  log(`gave up after ${HARD_LIMIT_MS / 60_000} min`);
  process.exit(2);
}, HARD_LIMIT_MS);
hardLimit.unref();

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
