/**
 * Meeting sizes on the mediasoup media plane, end to end: the real management server and one
 * conferencing node (separate processes, e2e/support/platform.ts), and 2…16 Debian Chromium
 * pages, each in its own browser context, joined to one VMR through the meeting client UI
 * (/webapp/). Prints ONE JSON document on stdout (progress goes to stderr).
 *
 *   npx vite build                            # once: the node serves dist/web/webapp (built here if missing)
 *   npx tsx bench/meeting-scale.ts [--quick] [--fps 30] [--layout auto|1:7|1:21] [--pages-per-browser 4]
 *                                  [--max 16] [--joins 5] [--window 10] [--warmup 10] [--timeout-min 30]
 *
 * Per meeting size (2, 4, 6 … 12, then 14 and 16 while every receiver still decodes ≥ 15 fps):
 *   - node CPU, % of one core: utime+stime (/proc/<pid>/stat) of the node agent process plus its
 *     mediasoup worker processes (its children; the pids /healthz lists), over the window;
 *   - the node's event-loop lag p95: from /healthz `eventLoopLagMs` (the node's own
 *     monitorEventLoopDelay over its last complete 10 s window), taking the first window that lies
 *     wholly after the meeting reached its size;
 *   - per receiver and per visible remote video: decoded fps = Δ framesDecoded / Δ stats timestamp
 *     of the inbound-rtp video stats (window.meeting.pc.getStats()), matched to the sender through
 *     window.meeting.media.remoteTracks(); min and p50 over all (receiver, sender) pairs;
 *   - Chromium CPU (all processes of the browsers this benchmark launched), the management
 *     server's, and the machine's (of cores × 100 %) with the part none of these account for
 *     (other work on the machine).
 * Join → first remote frame: with 4 participants in, a 5th (a fresh browser context each time)
 * presses Join; the page times until the first inbound video frame is decoded; leaves; repeated.
 * Largest meeting at 15 fps: the largest size such that it and every smaller size measured had
 * every receiver decode every visible remote video at ≥ 15 fps.
 */
import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { COLORS, TONES, useFakeMedia, type Rgb } from '../e2e/support/fakeMedia.js';
import { CHROMIUM_ARGS, createVmr, startPlatform, type Platform } from '../e2e/support/platform.js';
import { installBenchCamera } from './support/meeting/camera.js';
import { cpuPct, machineCpu, sampleProcs, treeOf, type ProcSample } from './support/meeting/proc.js';
import { clickJoinAndTimeFirstFrame, videoStats, type PageVideoStats } from './support/meeting/probes.js';

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const QUICK = flag('quick');
const FPS = Number(opt('fps', '30'));
const LAYOUT = opt('layout', 'auto');
const PAGES_PER_BROWSER = Number(opt('pages-per-browser', '4'));
const MAX = Number(opt('max', QUICK ? '4' : '16'));
const JOINS = Number(opt('joins', QUICK ? '3' : '5'));
const WINDOW_S = Number(opt('window', QUICK ? '5' : '10'));
const WARMUP_S = Number(opt('warmup', QUICK ? '4' : '10'));
const TIMEOUT_MIN = Number(opt('timeout-min', QUICK ? '10' : '30'));
const THRESHOLD_FPS = 15;
/** Before each window, wait up to this long for other work on the (shared) machine to drop below QUIET_BELOW_PCT of a core. */
const QUIET_MAX_S = Number(opt('quiet-max', QUICK ? '15' : '60'));
const QUIET_BELOW_PCT = 50;
/** Sizes always measured (part 1 needs 2, 4, 8, 12); past them only while every size passed. */
const ALWAYS = QUICK ? [2, 4] : [2, 4, 6, 8, 10, 12];
const EXTRA = QUICK ? [] : [14, 16];
const SIZES = [...ALWAYS, ...EXTRA].filter((n) => n <= MAX);
const JOIN_TEST_AT = 4;
if (!['auto', '1:7', '1:21'].includes(LAYOUT)) throw new Error(`--layout: auto, 1:7 or 1:21`);

const MGMT_PORT = 28480;
const NODE_PORT = 28481;
const MEDIA_PORTS = '45000-45999';
const ALIAS = 'meet.scale';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const log = (...a: unknown[]) => console.error(`[meeting-scale ${((Date.now() - START) / 1000).toFixed(0)}s]`, ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const percentile = (xs: number[], p: number): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const START = Date.now();

// ---------------------------------------------------------------- state

let platform: Platform | null = null;
const browsers: Browser[] = [];
let joinerBrowser: Browser | null = null;
interface Participant {
  index: number;
  name: string;
  context: BrowserContext;
  page: Page;
  uuid?: string;
}
const participants: Participant[] = [];

const result: Record<string, unknown> = {
  benchmark: 'meeting-scale',
  mode: QUICK ? 'quick' : 'full',
  startedAt: new Date(START).toISOString(),
};

// ---------------------------------------------------------------- /healthz poller (event-loop lag, worker pids)

interface LagSnapshot {
  /** Wall clock ms when this value was first seen (the node's window ended at most one poll earlier). */
  seenAt: number;
  p50: number;
  p95: number;
  max: number;
  windowS: number;
}
const lagSnapshots: LagSnapshot[] = [];
let healthFieldPresent: boolean | null = null;
let workerPids: number[] = [];
let pollHealth = true;
async function healthPoller(url: string): Promise<void> {
  let last = '';
  while (pollHealth) {
    try {
      const h = (await (await fetch(`${url}/healthz`)).json()) as {
        eventLoopLagMs?: { p50: number; p95: number; max: number; windowS: number };
        mediaWorkers?: { pid: number; routers: number }[];
      };
      healthFieldPresent = h.eventLoopLagMs !== undefined;
      if (h.mediaWorkers) workerPids = h.mediaWorkers.map((w) => w.pid);
      const key = JSON.stringify(h.eventLoopLagMs ?? null);
      if (h.eventLoopLagMs && key !== last) {
        last = key;
        lagSnapshots.push({ seenAt: Date.now(), ...h.eventLoopLagMs });
      }
    } catch {
      /* the node may be busy or stopping */
    }
    await sleep(500);
  }
}

// ---------------------------------------------------------------- browsers and participants

function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

async function browserFor(index: number): Promise<Browser> {
  const b = Math.floor(index / PAGES_PER_BROWSER);
  while (browsers.length <= b) browsers.push(await launchBrowser());
  return browsers[b]!;
}

const COLOR_LIST = Object.values(COLORS) as readonly Rgb[];

async function newMeetingPage(browser: Browser, index: number, name: string, toneOn: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  // tsx (esbuild, keepNames) wraps named inner functions in __name(): the init scripts and
  // page.evaluate callbacks serialised from this process need it in the page.
  await context.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
  const color = [...COLOR_LIST[index % COLOR_LIST.length]!] as Rgb;
  // fakeMedia's microphone (one speaker has its tone on) and screen; the camera replaced by a faster one.
  await useFakeMedia(context, { color, screenColor: [...COLORS.white] as Rgb, toneHz: TONES[index % TONES.length]!, toneOn });
  await context.addInitScript(installBenchCamera, { color, fps: FPS, width: 640, height: 360 });
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`[${name}] page error: ${err.message}`));
  await page.goto(`${platform!.nodeUrl}/webapp/?alias=${encodeURIComponent(ALIAS)}&name=${encodeURIComponent(name)}`);
  try {
    await page.getByRole('button', { name: 'Join' }).waitFor({ timeout: 30_000 });
  } catch (err) {
    await context.close().catch(() => undefined);
    const body = await page.evaluate(() => document.body?.innerText.slice(0, 200)).catch(() => '?');
    throw new Error(
      `${name}: no Join button at ${page.url()} within 30 s (${err instanceof Error ? err.message.split('\n')[0] : err}; page text: ${JSON.stringify(body)})`,
      { cause: err },
    );
  }
  return { context, page };
}

async function selectLayout(page: Page): Promise<void> {
  const current = await page.getByTestId('media-stage').getAttribute('data-layout');
  if (current !== LAYOUT) await page.getByLabel('Layout').selectOption(LAYOUT);
}

async function addParticipant(): Promise<void> {
  const index = participants.length;
  const name = `P${String(index + 1).padStart(2, '0')}`;
  const browser = await browserFor(index);
  for (let attempt = 1; ; attempt++) {
    let joined: { context: BrowserContext; page: Page } | null = null;
    try {
      joined = await newMeetingPage(browser, index, name, index === 0);
      await joined.page.getByRole('button', { name: 'Join' }).click();
      await joined.page.getByTestId('media-stage').waitFor({ timeout: 45_000 });
      participants.push({ index, name, ...joined });
      break;
    } catch (err) {
      const page = joined?.page;
      const where = page
        ? await page.evaluate(() => `${location.href} | ${document.body?.innerText.slice(0, 200).replace(/\s+/g, ' ')}`).catch(() => page.url())
        : 'no page';
      const message = `${err instanceof Error ? err.message.split('\n')[0] : String(err)} (page: ${where})`;
      await joined?.context.close().catch(() => undefined);
      if (attempt >= 2) throw new Error(message, { cause: err });
      log(`${name}: join attempt ${attempt} failed, retrying: ${message}`);
      joinRetries.push({ participant: name, error: message });
    }
  }
  // The node's `layout` event (the role's view) comes once at the start; pick the layout after it.
  await sleep(500);
  await selectLayout(participants[index]!.page);
}
const joinRetries: { participant: string; error: string }[] = [];

/** Tiles a receiver shows in the layout with `others` other participants (see web/webapp/media/layout.ts). */
function expectedTiles(others: number): number {
  if (LAYOUT === 'auto') return others <= 16 ? others : 16; // GALLERY_MAX, the last place "+N"
  const thumbs = LAYOUT === '1:7' ? 7 : 21;
  if (others <= 1 + thumbs) return others;
  return 1 + thumbs - 1; // the last thumbnail becomes "+N"
}

async function allStats(): Promise<(PageVideoStats | null)[]> {
  return Promise.all(participants.map((p) => videoStats(p.page).catch(() => null)));
}

/** Until every page is in the layout and shows the expected tiles, each with video decoding. */
async function settle(timeoutMs: number): Promise<{ ms: number; ok: boolean }> {
  const t0 = Date.now();
  const want = expectedTiles(participants.length - 1);
  for (;;) {
    const stats = await allStats();
    let ok = true;
    for (const [i, s] of stats.entries()) {
      if (!s) {
        ok = false;
        continue;
      }
      participants[i]!.uuid = s.self;
      if (s.layout !== LAYOUT) {
        ok = false;
        await selectLayout(participants[i]!.page).catch(() => undefined);
      }
      if (s.tiles.length !== want || !s.tiles.every((t) => t.video)) ok = false;
      for (const t of s.tiles) if (!s.inbound.some((r) => r.uuid === t.uuid && r.framesDecoded > 0)) ok = false;
    }
    if (ok) return { ms: Date.now() - t0, ok };
    if (Date.now() - t0 > timeoutMs) return { ms: Date.now() - t0, ok: false };
    await sleep(1_000);
  }
}

// ---------------------------------------------------------------- other load on the shared machine

/** % of one core the machine spends outside this benchmark's process tree (node, server, Chromium included), over `ms`. */
async function otherLoad(ms: number): Promise<number> {
  const pids = treeOf(process.pid);
  const p0 = sampleProcs(pids);
  const m0 = machineCpu();
  const t0 = performance.now();
  await sleep(ms);
  const p1 = sampleProcs(pids);
  const m1 = machineCpu();
  const s = (performance.now() - t0) / 1000;
  return round1(Math.max(0, ((m1.busyS - m0.busyS) / s) * 100 - cpuPct(p0, p1, s)));
}

/**
 * Waits (at most `maxS`) for a 2 s stretch in which other work on the machine takes less than
 * `belowPct` of one core, so that the window measures this meeting rather than the neighbours.
 */
async function waitForQuiet(maxS: number, belowPct: number): Promise<{ waitedS: number; otherLoadPct: number; quiet: boolean }> {
  const t0 = Date.now();
  for (;;) {
    const other = await otherLoad(2_000);
    const waitedS = Math.round((Date.now() - t0) / 1000);
    if (other < belowPct) return { waitedS, otherLoadPct: other, quiet: true };
    if (waitedS >= maxS) return { waitedS, otherLoadPct: other, quiet: false };
  }
}

// ---------------------------------------------------------------- one measurement

interface ProcSets {
  node: number;
  workers: number[];
  nodeOthers: number[];
  mgmt: number[];
  chromium: number[];
  self: number;
}
function procSets(): ProcSets {
  const nodePid = platform!.node.pid!;
  const nodeTree = treeOf(nodePid);
  const children = nodeTree.filter((p) => p !== nodePid);
  const workers = children.filter((p) => workerPids.includes(p) || (readComm(p) ?? '').startsWith('mediasoup-work'));
  const mgmt = treeOf(platform!.server.pid!);
  const mine = treeOf(process.pid);
  const excluded = new Set([...nodeTree, ...mgmt, process.pid]);
  return {
    node: nodePid,
    workers,
    nodeOthers: children.filter((p) => !workers.includes(p)),
    mgmt,
    chromium: mine.filter((p) => !excluded.has(p)),
    self: process.pid,
  };
}
/** A Chromium process's --type (renderer, gpu-process, utility:<sub-type>, zygote…), `browser` without one. */
function chromiumType(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/); // Chromium rewrites its title: spaces, not NULs
    const type = args.find((a) => a.startsWith('--type='))?.slice(7);
    const sub = args
      .find((a) => a.startsWith('--utility-sub-type='))
      ?.slice(19)
      .replace(/\.mojom\./, '.');
    if (!args[0]?.includes('chrom')) return 'other';
    return type ? (type === 'utility' && sub ? `utility:${sub}` : type) : 'browser';
  } catch {
    return 'gone';
  }
}
function readComm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

interface Pair {
  receiver: string;
  sender: string;
  fps: number;
  frameHeight: number;
}

interface SentLayer {
  sender: string;
  rid: string;
  height: number;
  fps: number | null;
  limitation: string;
}

function fpsPairs(a: (PageVideoStats | null)[], b: (PageVideoStats | null)[]): { pairs: Pair[]; tileCounts: number[]; layers: SentLayer[] } {
  const nameOf = new Map(participants.map((p) => [p.uuid ?? '', p.name]));
  const pairs: Pair[] = [];
  const tileCounts: number[] = [];
  const layers: SentLayer[] = [];
  for (const [i, end] of b.entries()) {
    const start = a[i];
    const receiver = participants[i]!.name;
    if (!end || !start) {
      tileCounts.push(0);
      continue;
    }
    tileCounts.push(end.tiles.length);
    for (const t of end.tiles) {
      const e = end.inbound.filter((r) => r.uuid === t.uuid);
      const s = start.inbound.filter((r) => r.uuid === t.uuid);
      const frames = e.reduce((x, r) => x + r.framesDecoded, 0) - s.reduce((x, r) => x + r.framesDecoded, 0);
      const dt = (Math.max(0, ...e.map((r) => r.ts)) - Math.max(0, ...s.map((r) => r.ts))) / 1000;
      const fps = t.video && e.length && s.length && dt > 0 ? frames / dt : 0;
      pairs.push({ receiver, sender: nameOf.get(t.uuid) ?? t.uuid, fps: round1(fps), frameHeight: Math.max(0, ...e.map((r) => r.frameHeight)) });
    }
    // The sender side of this page: each simulcast layer's encoded fps and size.
    for (const o of end.outbound) {
      const o0 = start.outbound.find((x) => x.rid === o.rid);
      const dt = o0 ? (o.ts - o0.ts) / 1000 : 0;
      layers.push({
        sender: receiver,
        rid: o.rid || '-',
        height: o.frameHeight,
        fps: o0 && dt > 0 ? round1((o.framesEncoded - o0.framesEncoded) / dt) : null,
        limitation: o.qualityLimitationReason || 'n/a',
      });
    }
  }
  return { pairs, tileCounts, layers };
}

/** monitorEventLoopDelay records the whole interval between its 10 ms timer's runs: the lag proper is the excess over 10 ms. */
const LAG_RESOLUTION_MS = 10;
const lateBy = (ms: number) => Math.round(Math.max(0, ms - LAG_RESOLUTION_MS) * 100) / 100;

async function lagFor(steadySince: number, waitUntil: number): Promise<Record<string, unknown> | null> {
  if (healthFieldPresent === false) return null;
  // A node window [seenAt - 10 s - poll, seenAt] wholly after steadySince.
  const ok = (s: LagSnapshot) => s.seenAt - s.windowS * 1000 - 700 >= steadySince;
  while (Date.now() < waitUntil && !lagSnapshots.some(ok)) await sleep(250);
  const good = lagSnapshots.filter(ok);
  if (good.length) {
    const worst = good.reduce((x, y) => (y.p95 > x.p95 ? y : x));
    return {
      p50: worst.p50,
      p95: worst.p95,
      max: worst.max,
      p95LateMs: lateBy(worst.p95),
      nodeWindowS: worst.windowS,
      windows: good.length,
      steadyStateOnly: true,
    };
  }
  const latest = lagSnapshots.at(-1);
  return latest
    ? { p50: latest.p50, p95: latest.p95, max: latest.max, p95LateMs: lateBy(latest.p95), nodeWindowS: latest.windowS, windows: 1, steadyStateOnly: false }
    : null;
}

async function measure(size: number, steadySince: number): Promise<Record<string, unknown>> {
  const sets = procSets();
  const allPids = [sets.node, ...sets.workers, ...sets.nodeOthers, ...sets.mgmt, ...sets.chromium, sets.self];
  const s0 = await allStats();
  const p0 = sampleProcs(allPids);
  const m0 = machineCpu();
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const s1 = await allStats();
  const p1 = sampleProcs(allPids);
  const m1 = machineCpu();
  const seconds = (performance.now() - t0) / 1000;
  const lagWait = lagFor(steadySince, Date.now() + 12_000);

  const only = (pids: number[]) => (s: ProcSample) => pids.includes(s.pid);
  const nodeProcess = cpuPct(p0, p1, seconds, only([sets.node]));
  const workers = sets.workers.map((pid) => ({ pid, cpuPct: cpuPct(p0, p1, seconds, only([pid])) }));
  const nodeOthers = cpuPct(p0, p1, seconds, only(sets.nodeOthers));
  const mgmt = cpuPct(p0, p1, seconds, only(sets.mgmt));
  const chromiumCpu = cpuPct(p0, p1, seconds, only(sets.chromium));
  // Chromium by process type: renderers (page, WebRTC decode/encode), the GPU process (software compositing), the browser, utilities (network, audio).
  const types = new Map(sets.chromium.map((pid) => [pid, chromiumType(pid)]));
  const chromiumByType: Record<string, number> = {};
  for (const t of [...new Set(types.values())].sort()) chromiumByType[t] = cpuPct(p0, p1, seconds, (x) => types.get(x.pid) === t);
  const self = cpuPct(p0, p1, seconds, only([sets.self]));
  const machineBusy = round1(((m1.busyS - m0.busyS) / seconds) * 100);
  const cores = os.availableParallelism();
  const nodeTotal = round1(nodeProcess + workers.reduce((x, w) => x + w.cpuPct, 0) + nodeOthers);
  const accounted = nodeTotal + mgmt + chromiumCpu + self;

  const { pairs, tileCounts, layers } = fpsPairs(s0, s1);
  const want = expectedTiles(size - 1);
  const fps = pairs.map((p) => p.fps);
  const perReceiverMin = participants.map((p) => {
    const mine = pairs.filter((x) => x.receiver === p.name).map((x) => x.fps);
    return mine.length ? Math.min(...mine) : null;
  });
  const allTiles = tileCounts.every((c) => c === want);
  const pass = allTiles && pairs.length === size * want && fps.every((f) => f >= THRESHOLD_FPS);
  const heights: Record<string, number> = {};
  for (const p of pairs) heights[p.frameHeight] = (heights[p.frameHeight] ?? 0) + 1;
  const byRid: Record<string, unknown> = {};
  for (const rid of [...new Set(layers.map((l) => l.rid))].sort()) {
    const ls = layers.filter((l) => l.rid === rid);
    const f = ls.map((l) => l.fps ?? 0);
    const reasons: Record<string, number> = {};
    for (const l of ls) reasons[l.limitation] = (reasons[l.limitation] ?? 0) + 1;
    byRid[rid] = {
      senders: ls.length,
      heightP50: percentile(
        ls.map((l) => l.height),
        50,
      ),
      encodedFps: { min: f.length ? Math.min(...f) : null, p50: percentile(f, 50) },
      qualityLimitationReason: reasons,
    };
  }
  const lag = await lagWait;
  return {
    participants: size,
    windowS: round1(seconds),
    passes15fps: pass,
    nodeCpuPctOfOneCore: {
      total: nodeTotal,
      nodeAgentProcess: nodeProcess,
      mediasoupWorkers: workers,
      ...(sets.nodeOthers.length ? { otherChildren: nodeOthers } : {}),
    },
    nodeEventLoopLagMs: lag ?? null,
    decodedFps: {
      visibleVideosPerReceiver: want,
      pairs: pairs.length,
      expectedPairs: size * want,
      min: fps.length ? Math.min(...fps) : null,
      p50: percentile(fps, 50),
      p10: percentile(fps, 10),
      below15: fps.filter((f) => f < THRESHOLD_FPS).length,
      perReceiverMin,
      receivedFrameHeights: heights,
    },
    sentSimulcastLayers: byRid,
    chromiumCpuPctOfOneCore: chromiumCpu,
    chromiumShareOfMachinePct: round1(chromiumCpu / cores),
    chromiumCpuByProcessType: chromiumByType,
    managementServerCpuPctOfOneCore: mgmt,
    benchProcessCpuPctOfOneCore: self,
    machineBusyPctOfOneCore: machineBusy,
    otherLoadOnMachinePctOfOneCore: round1(Math.max(0, machineBusy - accounted)),
    loadavg1: round1(os.loadavg()[0]!),
  };
}

// ---------------------------------------------------------------- join → first remote frame

async function joinToFirstFrame(): Promise<Record<string, unknown>> {
  joinerBrowser ??= await launchBrowser();
  const samples: number[] = [];
  const errors: string[] = [];
  const present = participants.length;
  for (let k = 0; k < JOINS; k++) {
    let ctx: BrowserContext | null = null;
    try {
      const { context, page } = await newMeetingPage(joinerBrowser, present, 'Joiner', false);
      ctx = context;
      const ms = await clickJoinAndTimeFirstFrame(page, 30_000);
      samples.push(Math.round(ms));
      log(`join → first frame #${k + 1}: ${Math.round(ms)} ms`);
      await page.getByRole('button', { name: 'Leave' }).click();
      await page.getByRole('heading', { name: 'Join a meeting' }).waitFor({ timeout: 15_000 });
    } catch (err) {
      errors.push(err instanceof Error ? err.message.split('\n')[0]! : String(err));
      log(`join #${k + 1} failed: ${errors.at(-1)}`);
    } finally {
      await ctx?.close().catch(() => undefined);
    }
    // Back to the meeting of `present` before the next one.
    const t0 = Date.now();
    while (Date.now() - t0 < 15_000) {
      const s = await videoStats(participants[0]!.page).catch(() => null);
      if (s && s.tiles.length === expectedTiles(present - 1)) break;
      await sleep(250);
    }
    await sleep(1_000);
  }
  return {
    participantsAlreadyIn: present,
    joinerIs: `participant ${present + 1}`,
    joins: samples.length,
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
    minMs: samples.length ? Math.min(...samples) : null,
    maxMs: samples.length ? Math.max(...samples) : null,
    samplesMs: samples,
    ...(errors.length ? { errors } : {}),
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (!existsSync('dist/web/webapp/index.html')) {
    log('dist/web/webapp/index.html missing: npx vite build');
    execSync('npx vite build', { stdio: ['ignore', process.stderr, process.stderr] });
  }
  const chromiumVersion = (() => {
    try {
      return execSync(`${CHROMIUM} --version 2>/dev/null`).toString().trim();
    } catch {
      return null;
    }
  })();
  result.machine = {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? null,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavgAtStart: os.loadavg().map(round1),
    chromium: chromiumVersion,
    node: process.version,
  };
  result.setup = {
    camera: `640x360 canvas (fakeMedia's picture: one colour + a moving 40 px square), captured at ${FPS} fps (bench/support/meeting/camera.ts); simulcast as the client chooses (3 layers from 640x360)`,
    microphone: "fakeMedia's sine tone; only the first participant's tone is on (one speaker)",
    layout:
      LAYOUT === 'auto'
        ? 'gallery (auto): every other participant in a tile (up to 16); the client asks for simulcast layer 2 (360p) with 1 tile, 1 (180p) with 2-4, 0 (90p) with 5+'
        : `${LAYOUT}: main tile layer 2 (360p), thumbnails layer 0 (90p)`,
    browsers: `Debian Chromium, headless, CHROMIUM_ARGS of e2e/support/platform.ts; ${PAGES_PER_BROWSER} pages (each its own browser context) per browser process; the 5th joiner in a browser of its own`,
    network: 'loopback only (node media on 127.0.0.1)',
    warmupS: WARMUP_S,
    windowS: WINDOW_S,
    passCriterion: `every receiver shows the layout's expected tiles and decodes every visible remote video at >= ${THRESHOLD_FPS} fps over the window`,
    sizes: SIZES,
  };

  process.env.NODE_HTTPS_PORT = 'off'; // no TLS listener on the shared 8443
  log('starting the management server and the node');
  platform = await startPlatform({ managementPort: MGMT_PORT, nodePort: NODE_PORT, mediaPorts: MEDIA_PORTS });
  void healthPoller(platform.nodeUrl);
  const before = ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services;
  await createVmr(platform, { name: 'Scale Room', aliases: [{ alias: ALIAS }] });
  for (let i = 0; i < 100; i++) {
    const h = (await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number };
    if (h.services > before) break;
    await sleep(100);
  }

  const sizes: Record<string, unknown>[] = [];
  result.sizes = sizes;
  let allPassed = true;
  for (const size of SIZES) {
    if (!ALWAYS.includes(size) && !allPassed) break;
    try {
      while (participants.length < size) {
        log(`joining participant ${participants.length + 1}`);
        await addParticipant();
      }
    } catch (err) {
      sizes.push({ participants: size, error: `join failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
      break;
    }
    const settled = await settle(60_000);
    log(`${size} participants: settled in ${settled.ms} ms (${settled.ok ? 'all tiles decoding' : 'NOT all tiles decoding'}); warm-up ${WARMUP_S} s`);
    const steadySince = Date.now();
    await sleep(WARMUP_S * 1000);
    let quiet = await waitForQuiet(QUIET_MAX_S, QUIET_BELOW_PCT);
    let m = await measure(size, steadySince);
    const other = m.otherLoadOnMachinePctOfOneCore as number;
    if (!m.passes15fps && other > QUIET_BELOW_PCT) {
      // Other work on the shared machine took a lot during this window: measure once more.
      log(`${size}: failed with ${other}% of a core of other load on the machine; measuring again`);
      const first = { minFps: (m.decodedFps as { min: number }).min, otherLoadOnMachinePctOfOneCore: other };
      quiet = await waitForQuiet(QUIET_MAX_S, QUIET_BELOW_PCT);
      m = { ...(await measure(size, steadySince)), firstAttempt: first };
    }
    m.waitForQuietMachine = quiet;
    m.settled = settled;
    sizes.push(m);
    const d = m.decodedFps as { min: number | null; p50: number | null };
    log(
      `${size}: pass=${m.passes15fps} fps min ${d.min} p50 ${d.p50}; node ${(m.nodeCpuPctOfOneCore as { total: number }).total}% chromium ${m.chromiumCpuPctOfOneCore}% machine ${m.machineBusyPctOfOneCore}%`,
    );
    if (!m.passes15fps) allPassed = false;
    if (size === JOIN_TEST_AT) {
      log(`join → first remote frame with ${size} in, ${JOINS} times`);
      result.joinToFirstRemoteFrame = await joinToFirstFrame();
    }
  }
  summarise();
}

function summarise(): void {
  if (joinRetries.length) result.joinRetries = joinRetries;
  const sizes = (result.sizes as Record<string, unknown>[] | undefined) ?? [];
  const measured = sizes.filter((s) => s.passes15fps !== undefined);
  result.meetingSizes = [2, 4, 8, 12].map((n) => {
    const s = measured.find((x) => x.participants === n);
    if (!s) return { participants: n, measured: false };
    const d = s.decodedFps as { min: number | null; p50: number | null; visibleVideosPerReceiver: number };
    const lag = s.nodeEventLoopLagMs as { p95: number; p95LateMs: number } | null;
    return {
      participants: n,
      nodeCpuPctOfOneCore: (s.nodeCpuPctOfOneCore as { total: number }).total,
      nodeEventLoopLagP95Ms: lag ? { asReported: lag.p95, lateByMs: lag.p95LateMs } : null,
      decodedFpsPerRemoteVideo: { min: d.min, p50: d.p50, visiblePerReceiver: d.visibleVideosPerReceiver },
      chromiumCpuPctOfOneCore: s.chromiumCpuPctOfOneCore,
      otherLoadOnMachinePctOfOneCore: s.otherLoadOnMachinePctOfOneCore,
    };
  });
  let largest: number | null = null;
  for (const s of sizes) {
    if (s.passes15fps !== true) break;
    largest = s.participants as number;
  }
  const firstFail = sizes.find((s) => s.passes15fps !== true);
  result.largestMeetingAt15fps = {
    participants: largest,
    stepsTried: sizes.map((s) => ({
      participants: s.participants,
      pass: s.passes15fps ?? false,
      minFps: (s.decodedFps as { min: number | null } | undefined)?.min ?? null,
    })),
    firstFailing: firstFail ? firstFail.participants : null,
    allTriedPassed: !firstFail,
    note: "The Chromium clients (every participant is a full Chromium page decoding and rendering the others, encoding 3 simulcast layers, all in software) run on the same 2 cores as the node, so this limit is mostly the clients' on this machine, not the node's: compare nodeCpuPctOfOneCore with chromiumCpuPctOfOneCore per size.",
  };
  result.notes = [
    'CPU figures are % of one core (100 = one core busy); the machine has ' + os.availableParallelism() + ' cores.',
    'nodeCpuPctOfOneCore = utime+stime of the node agent process (JS thread and its worker threads, e.g. the audio mixer) plus its mediasoup worker child processes, from /proc over the window.',
    healthFieldPresent
      ? "nodeEventLoopLagMs is read from the node's /healthz eventLoopLagMs (monitorEventLoopDelay, 10 ms resolution, over its last complete 10 s window; the worst window lying wholly after the meeting reached its size). Its values are whole intervals of a 10 ms timer (an idle loop reads about 10.1 ms), so the lag proper is p95LateMs = p95 - 10 ms."
      : 'nodeEventLoopLagMs: the node exposes no event-loop lag (no /healthz eventLoopLagMs field), so null.',
    'decodedFps: per receiver page and per visible remote video tile, Δ framesDecoded / Δ stats timestamp of the matching inbound-rtp video (window.meeting.pc.getStats() merges both transports), sender matched via window.meeting.media.remoteTracks(); a tile without video counts 0.',
    'otherLoadOnMachinePctOfOneCore = machine busy time (/proc/stat) minus node, management server, Chromium and this process: other work on this shared machine during the window (it competes with the clients and the node and lowers the figures).',
    'This machine is shared: other sessions (builds, type checks, other benchmarks and browsers) ran during the measurement; waitForQuietMachine shows how long each window waited (at most ' +
      QUIET_MAX_S +
      ' s) for their load to drop below ' +
      QUIET_BELOW_PCT +
      " % of a core, and otherLoadOnMachinePctOfOneCore what they took during the window. With the machine at 200 % busy, the node's event-loop lag includes time its thread waits for a core, not only its own work (it uses ~1 % of a core).",
    'sentSimulcastLayers: per simulcast encoding (r0 = 1/4 size, r1 = 1/2, r2 = full), over all senders: frame height, encoded fps and the outbound-rtp qualityLimitationReason; a height of 0 means the layer was not being sent.',
    'Canvas content is synthetic (flat colour + a small moving square), far cheaper to encode and decode than a real camera; real cameras would lower the client-side limit.',
    'Join → first frame includes the token request, getUserMedia, mediasoup transports (ICE/DTLS over loopback), consumers and the first keyframe, timed inside the joining page.',
  ];
}

// ---------------------------------------------------------------- run, with a global timeout and cleanup

let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  pollHealth = false;
  const withTimeout = (p: Promise<unknown>, ms: number) => Promise.race([p.catch(() => undefined), sleep(ms)]);
  await Promise.all([...browsers, ...(joinerBrowser ? [joinerBrowser] : [])].map((b) => withTimeout(b.close(), 20_000)));
  if (platform) await withTimeout(platform.stop(), 20_000);
}

let exitCode = 0;
let timer: NodeJS.Timeout | undefined;
const timeout = new Promise<never>((_, reject) => {
  timer = setTimeout(() => reject(new Error(`global timeout (${TIMEOUT_MIN} min)`)), TIMEOUT_MIN * 60_000);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  });
}
try {
  await Promise.race([main(), timeout]);
} catch (err) {
  exitCode = 1;
  result.error = err instanceof Error ? err.message : String(err);
  log('error:', err);
  try {
    summarise();
  } catch {
    /* partial */
  }
} finally {
  clearTimeout(timer);
  // A hard stop if cleanup itself hangs.
  setTimeout(() => process.exit(3), 60_000).unref();
  await cleanup();
}
result.durationS = Math.round((Date.now() - START) / 1000);
console.log(JSON.stringify(result, null, 2));
process.exit(exitCode);
