import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaTestClient } from '../../testing/MediaTestClient.js';
import { answerSignalling } from '../../testing/ipcSignalling.js';
import { MultiStreamTestClient, sessionSignalling, type StreamFigures } from '../../testing/MultiStreamTestClient.js';
import { Child } from '../../testing/rpc.js';
import { MediasoupConferenceMedia } from './MediasoupConferenceMedia.js';
import { MediasoupEngine } from './MediasoupEngine.js';
import { MediaStatistics } from '../../status/MediaStatistics.js';

/**
 * A participant on a poor link does not degrade the others. The poor participant's client runs
 * in a network namespace of its own, joined to the host by a veth pair whose two ends are shaped
 * (netem loss and delay where the kernel has it, else a tbf bandwidth cap far below what the
 * client sends and receives); the node and two good participants are on the host side. The good
 * participants' streams to each other must stay whole while the poor one still gets something.
 * Needs CAP_NET_ADMIN (root here); without it the test says why and skips.
 */
const PORTS: [number, number] = [43000, 43999];
const tag = String(process.pid % 10_000);
const NS = `om-poor-${tag}`;
const HOST_IF = `omp${tag}h`;
const NS_IF = `omp${tag}n`;
const octet = (process.pid % 200) + 20;
const HOST_IP = `10.203.${octet}.1`;
const NS_IP = `10.203.${octet}.2`;
const log = pino({ level: 'silent' });

function run(...args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  const err = r.error ? r.error.message : r.stderr.trim();
  return { ok: r.status === 0, err: `${args.join(' ')}: ${err || `exit ${r.status}`}` };
}

/** Creates the namespace and the shaped veth pair; returns why not, or the shaping used. */
function setUpLink(): { skip: string } | { shaping: string } {
  const made = run('ip', 'netns', 'add', NS);
  if (!made.ok) return { skip: `cannot create a network namespace: ${made.err}` };
  const steps: string[][] = [
    ['ip', 'link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF],
    ['ip', 'link', 'set', NS_IF, 'netns', NS],
    ['ip', 'addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF],
    ['ip', 'link', 'set', HOST_IF, 'up'],
    ['ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF],
    ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up'],
    ['ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up'],
  ];
  for (const s of steps) {
    const r = run(...s);
    if (!r.ok) return { skip: `cannot set up the veth link: ${r.err}` };
  }
  // Both directions: the poor client's uplink (its namespace's end) and downlink (the host's end).
  const shape = (up: string[], down = up) => [
    run('ip', 'netns', 'exec', NS, 'tc', 'qdisc', 'add', 'dev', NS_IF, 'root', ...up),
    run('tc', 'qdisc', 'add', 'dev', HOST_IF, 'root', ...down),
  ];
  const netem = ['netem', 'loss', '20%', 'delay', '100ms'];
  const netemResult = shape(netem);
  if (netemResult.every((r) => r.ok)) return { shaping: netem.join(' ') };
  run('ip', 'netns', 'exec', NS, 'tc', 'qdisc', 'del', 'dev', NS_IF, 'root');
  run('tc', 'qdisc', 'del', 'dev', HOST_IF, 'root');
  // The client sends ~260 kbit/s and is sent ~450 kbit/s (two senders): caps well below both, short queues.
  const tbf = (rate: string) => ['tbf', 'rate', rate, 'burst', '4kb', 'latency', '80ms'];
  const tbfResult = shape(tbf('128kbit'), tbf('320kbit'));
  const failed = tbfResult.find((r) => !r.ok);
  if (failed) return { skip: `cannot shape the link (netem: ${netemResult.find((r) => !r.ok)?.err}; tbf: ${failed.err})` };
  return { shaping: `tbf: uplink 128 kbit/s, downlink 320 kbit/s (netem unavailable: ${netemResult.find((r) => !r.ok)?.err})` };
}

function tearDownLink(): void {
  // Deleting the namespace destroys its veth end, and with it the pair.
  run('ip', 'netns', 'del', NS);
  run('ip', 'link', 'del', HOST_IF);
}

describe('a participant on a poor link', () => {
  let link: { skip: string } | { shaping: string };
  const engine = new MediasoupEngine(log, { workers: 1 });
  let media: MediasoupConferenceMedia | undefined;
  const clients: { close(): Promise<void> }[] = [];
  let poor: Child | undefined;

  beforeAll(() => {
    link = setUpLink();
    if ('skip' in link) {
      tearDownLink();
      console.warn(`poor-link test skipped: ${link.skip}`);
    } else console.info(`poor link: ${NS_IP} in namespace ${NS}, shaped with ${link.shaping}`);
  });
  afterAll(async () => {
    await poor?.stop();
    await Promise.all(clients.map((c) => c.close()));
    media?.close();
    engine.close();
    tearDownLink();
  });

  it('does not degrade the others’ media to each other, and still gets some itself', async (ctx) => {
    if ('skip' in link) ctx.skip();
    const m = new MediasoupConferenceMedia(engine, { announcedAddress: HOST_IP, portRange: PORTS, mode: 'conference' }, log);
    media = m;
    const tones = { a: 910, b: 1_180, p: 1_360, c: 1_720 } as const;
    const a = new MultiStreamTestClient('a', { portRange: PORTS, toneHz: tones.a, address: HOST_IP });
    const b = new MultiStreamTestClient('b', { portRange: PORTS, toneHz: tones.b, address: HOST_IP });
    // c is a single-stream call: it hears the mix (the poor participant's audio in it too).
    const c = new MediaTestClient('c', PORTS, { toneHz: tones.c, address: HOST_IP });
    clients.push(a, b, c);
    poor = new Child('node-agent/testing/multiStreamClientProcess.ts', 'poor', {}, ['ip', 'netns', 'exec', NS]);
    answerSignalling(poor.proc, sessionSignalling(m.openSession('p')));
    await a.join(sessionSignalling(m.openSession('a')));
    await b.join(sessionSignalling(m.openSession('b')));
    await poor.call('join', { name: 'p', toneHz: tones.p, address: NS_IP, portRange: PORTS });
    await c.join(m);
    await Promise.all([a.receive(6), b.receive(6), poor.call('receive', { count: 6 })]);
    a.startSending();
    b.startSending();
    c.startSending();
    await poor.call('startSending');

    // Settle (jitter buffers, NACKs of the first packets), then measure a window.
    await new Promise((r) => setTimeout(r, 2_000));
    const since = Date.now();
    const sentBefore = { a: a.sentCount('video'), b: b.sentCount('video') };
    // The single-stream call's mix, sampled through the window: the good voices stay loud.
    const mixLevels: { a: number; b: number }[] = [];
    while (Date.now() < since + 6_000) {
      await new Promise((r) => setTimeout(r, 500));
      mixLevels.push({ a: c.toneLevelDb(tones.a), b: c.toneLevelDb(tones.b) });
    }
    const until = Date.now();
    // Frames (one video packet each) per second the good senders sent in the window.
    const sentRate = {
      a: ((a.sentCount('video') - sentBefore.a) * 1_000) / (until - since),
      b: ((b.sentCount('video') - sentBefore.b) * 1_000) / (until - since),
    };
    const figures: Record<string, StreamFigures> = {};
    for (const [rx, from] of [
      [a, 'b'],
      [b, 'a'],
      [a, 'c'],
      [b, 'c'],
      [a, 'p'],
      [b, 'p'],
    ] as const) {
      for (const kind of ['audio', 'video'] as const) figures[`${from}→${rx.name} ${kind}`] = rx.figures(from, kind, since, until);
    }
    for (const from of ['a', 'b']) {
      for (const kind of ['audio', 'video'] as const) figures[`${from}→p ${kind}`] = await poor.call<StreamFigures>('figures', { from, kind, since, until });
    }
    const mixMin = { a: Math.min(...mixLevels.map((l) => l.a)), b: Math.min(...mixLevels.map((l) => l.b)) };
    console.info(
      `poor link figures (${'shaping' in link ? link.shaping : ''}):\n${JSON.stringify({ ...figures, 'video frames/s sent by a and b': sentRate, 'c’s mix, lowest level of a and b (dBFS)': mixMin }, null, 1)}`,
    );

    // Between the good participants: everything sent arrives (no sequence gaps, the senders' frame rate), on time.
    for (const key of ['b→a audio', 'b→a video', 'a→b audio', 'a→b video', 'c→a audio', 'c→b audio', 'c→a video', 'c→b video']) {
      const f = figures[key]!;
      expect(f.loss, key).toBeLessThanOrEqual(0.01);
      expect(f.rate, key).toBeGreaterThan(25);
    }
    expect(figures['b→a video']!.rate).toBeGreaterThan(0.95 * sentRate.b);
    expect(figures['a→b video']!.rate).toBeGreaterThan(0.95 * sentRate.a);
    for (const key of ['b→a video', 'a→b video']) {
      expect(figures[key]!.jitterMs!, key).toBeLessThan(20);
      expect(figures[key]!.delayP95Ms!, key).toBeLessThan(100);
    }
    expect(mixMin.a).toBeGreaterThan(-40);
    expect(mixMin.b).toBeGreaterThan(-40);
    // The link is poor indeed: what crosses it loses much or comes late...
    for (const key of ['a→p video', 'b→p video', 'p→a video']) {
      const f = figures[key]!;
      expect(f.loss > 0.1 || (f.delayP50Ms ?? 0) > 80, key).toBe(true);
    }
    // ...yet the poor participant still hears and sees the others, and is heard.
    for (const key of ['a→p audio', 'b→p audio', 'p→a audio', 'p→b audio']) expect(figures[key]!.packets, key).toBeGreaterThan(0);
    // Video shares what is left of the downlink with retransmissions: some of it, from someone.
    expect(figures['a→p video']!.packets + figures['b→p video']!.packets).toBeGreaterThan(0);

    // The node's own view: one 20-s quality window (its clock moves 5 s per measurement, taken
    // every 1.5 s of real time). The poor participant's call is Terrible; the good ones' Good,
    // the poor one's losses on its way in not counted against those who receive it.
    let clock = Date.now();
    const statistics = new MediaStatistics(
      () => ['a', 'b', 'p'].map((id) => ({ conferenceId: 'x', participantId: id, measure: () => m.session(id)!.mediaStreams() })),
      { now: () => clock },
    );
    for (const id of ['a', 'b', 'p']) statistics.track('x', id);
    for (let i = 0; i < 5; i++) {
      await statistics.sample();
      await new Promise((r) => setTimeout(r, 1_500));
      clock += 5_000;
    }
    const quality = Object.fromEntries(['a', 'b', 'p'].map((id) => [id, statistics.participant(id)!.qualityWindows.at(-1)]));
    console.info(`node statistics on the poor link: ${JSON.stringify({ quality, p: statistics.participant('p')!.streams })}`);
    expect(quality.p!.quality).toBe('4_terrible');
    // Both ways: what it sends arrives short, and its receiver reports what the downlink lost.
    const pVideo = statistics.participant('p')!.streams.find((s) => s.type === 'video')!;
    expect(pVideo.rx!.packetsLost).toBeGreaterThan(0);
    expect(pVideo.tx!.packetsLost).toBeGreaterThan(0);
    expect(quality.a!.quality).toBe('1_good');
    expect(quality.b!.quality).toBe('1_good');
  });
});
