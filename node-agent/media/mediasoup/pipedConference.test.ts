import pino from 'pino';
import type { types } from 'mediasoup';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { MediaTestClient } from '../../testing/MediaTestClient.js';
import { MultiStreamTestClient, sessionSignalling } from '../../testing/MultiStreamTestClient.js';
import { MediasoupConferenceMedia } from './MediasoupConferenceMedia.js';
import { MediasoupEngine } from './MediasoupEngine.js';

/**
 * A conference that outgrows one router: with the limit forced to two participants per router and
 * two workers, the third and fourth participants get a router on the other worker and streams are
 * piped between the two. Real mediasoup workers, real werift clients over loopback; each client
 * sends its own tone and names itself in its video packets.
 */
const PORTS: [number, number] = [46000, 46999];
const log = pino({ level: 'silent' });
const engine = new MediasoupEngine(log, { workers: 2, routerLimits: { participants: 2 } });
const HEARD_DB = -40;

const open: { media: MediasoupConferenceMedia[]; clients: { close(): Promise<void> }[] } = { media: [], clients: [] };
afterEach(async () => {
  for (const m of open.media.splice(0)) m.close();
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
});
afterAll(() => engine.close());

function conference(): MediasoupConferenceMedia {
  const media = new MediasoupConferenceMedia(engine, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log);
  open.media.push(media);
  return media;
}

/** Pipe transports made on a router from now on (mediasoup makes them inside pipeToRouter). */
function pipesOn(router: types.Router): types.Transport[] {
  const pipes: types.Transport[] = [];
  router.observer.on('newtransport', (t) => {
    if (t.type === 'pipe') pipes.push(t);
  });
  return pipes;
}

describe('a conference across two workers (routers piped)', () => {
  it('four multi-stream participants on two routers each hear and see the three others', async () => {
    const media = conference();
    const home = await media.routers.home;
    const homePipes = pipesOn(home);
    const tones = { a: 440, b: 620, c: 820, d: 1_020 } as const;
    const names = Object.keys(tones) as (keyof typeof tones)[];
    const clients = names.map((name) => new MultiStreamTestClient(name, { portRange: PORTS, toneHz: tones[name] }));
    open.clients.push(...clients);
    for (const c of clients) await c.join(sessionSignalling(media.openSession(c.name)));

    const routers = media.routers.routers();
    expect(routers).toHaveLength(2);
    expect(engine.sameWorker(routers[0]!, routers[1]!)).toBe(false);
    expect(media.routers.placedRouter('a')).toBe(home);
    expect(media.routers.placedRouter('b')).toBe(home);
    expect(media.routers.placedRouter('c')).toBe(routers[1]);
    expect(media.routers.placedRouter('d')).toBe(routers[1]);

    // Each receives the three others' microphone and camera.
    await Promise.all(clients.map((c) => c.receive(6)));
    for (const c of clients) c.startSending();
    for (const c of clients) {
      for (const other of names.filter((n) => n !== c.name)) {
        await c.waitFor(`${other}'s tone`, () => c.toneLevelDb(other, tones[other]) > HEARD_DB, 15_000);
        await c.waitFor(`${other}'s video`, () => c.receivedFrom(other, 'video').length >= 25, 15_000);
      }
    }
    // Each stream carries its own sender's tone, not another's.
    for (const c of clients) {
      for (const other of names.filter((n) => n !== c.name)) {
        const wrong = names.filter((n) => n !== other).map((n) => c.toneLevelDb(other, tones[n]));
        expect(Math.max(...wrong)).toBeLessThan(c.toneLevelDb(other, tones[other]) - 20);
      }
    }
    // mediasoup keeps one pipe transport pair per pair of routers, whatever the number of streams.
    expect(homePipes.filter((t) => !t.closed)).toHaveLength(1);

    // The second router's participants leave: it closes, and the pipe transports with it.
    media.removeParticipant('c');
    expect(routers[1]!.closed).toBe(false);
    media.removeParticipant('d');
    await waitUntil(() => routers[1]!.closed && homePipes.every((t) => t.closed));
    expect(media.routers.routers()).toEqual([home]);
    // a and b still hear each other.
    const since = Date.now();
    await clients[0]!.waitFor('b after c and d left', () => clients[0]!.receivedFrom('b', 'audio', since).length >= 25);
  });

  it('single-stream calls on the second router hear everyone in their mix, and are heard and seen by multi-stream participants', async () => {
    const media = conference();
    const home = await media.routers.home;
    // Far from each other's intermodulation products (the mix adds three tones; a limiter bends them).
    const tones = { a: 910, b: 1_180, e: 1_360, f: 1_720 } as const;
    const a = new MultiStreamTestClient('a', { portRange: PORTS, toneHz: tones.a });
    const b = new MultiStreamTestClient('b', { portRange: PORTS, toneHz: tones.b });
    const e = new MediaTestClient('e', PORTS, { toneHz: tones.e });
    const f = new MediaTestClient('f', PORTS, { toneHz: tones.f });
    open.clients.push(a, b, e, f);
    await a.join(sessionSignalling(media.openSession('a')));
    await b.join(sessionSignalling(media.openSession('b')));
    await e.join(media);
    await f.join(media);
    const second = media.routers.routers()[1]!;
    expect(media.routers.placedRouter('e')).toBe(second);
    expect(media.routers.placedRouter('f')).toBe(second);
    expect(engine.sameWorker(home, second)).toBe(false);

    await Promise.all([a.receive(6), b.receive(6)]);
    for (const c of [a, b, e, f]) c.startSending();
    // The mixer runs on the home router: e's and f's microphones are piped to it, their mixes back.
    for (const [c, others] of [
      [e, ['a', 'b', 'f']],
      [f, ['a', 'b', 'e']],
    ] as const) {
      await c.waitFor('the others’ tones in the mix', () => others.every((o) => c.toneLevelDb(tones[o]) > HEARD_DB), 20_000);
      // Its own tone stays out of its mix: 20 dB under the quietest other once all are in (waited for,
      // since a tone that has only just crossed HEARD_DB is still ramping up; a leak never gets there).
      const ownBelowOthers = () => c.toneLevelDb(tones[c.name as 'e' | 'f']) < Math.min(...others.map((o) => c.toneLevelDb(tones[o]))) - 20;
      await c.waitFor('its own tone absent from its mix', ownBelowOthers, 10_000);
      // Voice-switched video: someone's picture arrives over the pipe.
      await c.waitFor('video', () => c.received.some((p) => p.kind === 'video' && p.from !== c.name), 15_000);
    }
    for (const c of [a, b]) {
      for (const other of ['e', 'f'] as const) {
        await c.waitFor(`${other}'s tone`, () => c.toneLevelDb(other, tones[other]) > HEARD_DB, 15_000);
        await c.waitFor(`${other}'s video`, () => c.receivedFrom(other, 'video').length >= 25, 15_000);
      }
    }
  });
});

describe('the default limit: consumers on a router', () => {
  const byConsumers = new MediasoupEngine(log, { workers: 2, routerLimits: { consumers: 4 } });
  afterAll(() => byConsumers.close());

  it('a router carrying as many consumers as the limit takes no one more: the next participant goes to the other worker', async () => {
    const media = new MediasoupConferenceMedia(byConsumers, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log);
    open.media.push(media);
    const tones = { a: 910, b: 1_180, c: 1_360 } as const;
    const [a, b, c] = (['a', 'b', 'c'] as const).map((n) => new MultiStreamTestClient(n, { portRange: PORTS, toneHz: tones[n] }));
    open.clients.push(a!, b!, c!);
    await a!.join(sessionSignalling(media.openSession('a')));
    await b!.join(sessionSignalling(media.openSession('b')));
    // a and b receive each other's two streams: four consumers on the home router.
    await Promise.all([a!.receive(2), b!.receive(2)]);
    const home = await media.routers.home;
    expect(byConsumers.consumersOn(home)).toBe(4);
    await c!.join(sessionSignalling(media.openSession('c')));
    const second = media.routers.placedRouter('c')!;
    expect(second).not.toBe(home);
    expect(byConsumers.sameWorker(home, second)).toBe(false);
    expect((await byConsumers.workers()).map((w) => w.routers).sort()).toEqual([1, 1]);
    // c's streams reach a over the pipe.
    c!.startSending();
    await waitUntil(() => media.session('a') !== undefined);
    await until(
      async () => (await media.receiving()).get('a')?.filter((r) => r.participantId === 'c').length ?? 0,
      (n) => n === 2,
    );
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}
