import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { NodeToServer } from '../../../shared/node-protocol/messages.js';
import { MediaTestClient } from '../../testing/MediaTestClient.js';
import { MultiStreamTestClient, sessionSignalling } from '../../testing/MultiStreamTestClient.js';
import { MediasoupConferenceMedia } from '../mediasoup/MediasoupConferenceMedia.js';
import { MediasoupEngine } from '../mediasoup/MediasoupEngine.js';
import { Backplane } from './Backplane.js';

/**
 * Two nodes' media for one conference, each on its own mediasoup engine (its own worker process),
 * joined by a backplane whose messages are handed across directly (the management server's relay is
 * tested with real nodes in server/platform/backplane.netns.integration.test.ts). Real werift clients,
 * each with its own tone; the analyser says who hears whom.
 */
const log = pino({ level: 'silent' });
const PORTS: [number, number] = [48000, 48499];
const engines = [new MediasoupEngine(log, { workers: 1 }), new MediasoupEngine(log, { workers: 1 })] as const;
/** A third node, for the three-node case. */
const third = new MediasoupEngine(log, { workers: 1 });
const HEARD_DB = -40;
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
afterAll(() => {
  for (const e of [...engines, third]) e.close();
});

function pair(one: MediasoupConferenceMedia, two: MediasoupConferenceMedia): [Backplane, Backplane] {
  const id = randomUUID();
  const ends: Backplane[] = [];
  const relay = (to: () => Backplane) => (msg: NodeToServer) => {
    if (msg.type === 'backplane_transport') void to().peerTransport(msg.transport);
    else if (msg.type === 'backplane_streams') void to().peerStreams(msg.participants, msg.streams);
  };
  const roster = (prefix: string) => () => [{ id: `${prefix}`, displayName: prefix, role: 'chair' as const, protocol: 'webrtc' as const }];
  ends.push(
    new Backplane(
      id,
      'Room',
      { nodeId: 2, name: 'two', location: 'B' },
      'geographic',
      one,
      roster('one'),
      relay(() => ends[1]!),
      log,
    ),
  );
  ends.push(
    new Backplane(
      id,
      'Room',
      { nodeId: 1, name: 'one', location: 'A' },
      'geographic',
      two,
      roster('two'),
      relay(() => ends[0]!),
      log,
    ),
  );
  return ends as [Backplane, Backplane];
}

describe('a backplane between two nodes’ media', () => {
  it('two participants on one node and one on the other each hear the other two and not themselves, and see video across', { timeout: 60_000 }, async () => {
    const media = engines.map((e) => new MediasoupConferenceMedia(e, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log));
    open.push(...media);
    const tones = { a: 910, b: 1_180, c: 1_510 } as const;
    const clients = (['a', 'b', 'c'] as const).map((n) => new MediaTestClient(n, PORTS, { toneHz: tones[n] }));
    open.push(...clients);
    const [a, b, c] = clients as [MediaTestClient, MediaTestClient, MediaTestClient];
    await a.join(media[0]!);
    await b.join(media[0]!);
    await c.join(media[1]!);
    // c alone sends video at first: voice switching then has only c's camera to show on node one.
    a.startSending(20, ['audio']);
    b.startSending(20, ['audio']);
    c.startSending();
    // Before the backplane: two separate meetings (a hears b; c hears neither).
    await a.waitFor("b's tone", () => a.toneLevelDb(tones.b) > HEARD_DB, 20_000);
    expect(Math.max(c.toneLevelDb(tones.a), c.toneLevelDb(tones.b))).toBeLessThan(HEARD_DB);
    const started = Date.now();
    const ends = pair(media[0]!, media[1]!);
    open.push(...ends);
    for (const [x, others] of [
      [a, ['b', 'c']],
      [b, ['a', 'c']],
      [c, ['a', 'b']],
    ] as const) {
      await x.waitFor(`${others.join(' and ')} in ${x.name}'s mix`, () => others.every((o) => x.toneLevelDb(tones[o]) > HEARD_DB), 20_000);
      const own = () => x.toneLevelDb(tones[x.name as keyof typeof tones]) < Math.min(...others.map((o) => x.toneLevelDb(tones[o]))) - 20;
      await x.waitFor(`${x.name}'s own tone absent from its mix`, own, 10_000);
    }
    console.log(`backplane: everyone hears the two others ${Date.now() - started} ms after it was opened`);
    // Voice-switched video crosses too, both ways.
    await a.waitFor("c's video", () => a.receivedFrom('c', 'video').length >= 10, 20_000);
    await b.waitFor("c's video", () => b.receivedFrom('c', 'video').length >= 10, 20_000);
    // a's camera starts: the only picture c may see, from the other node.
    a.startSending();
    await c.waitFor("a's video", () => c.receivedFrom('a', 'video').length >= 10, 20_000);
    // a is muted on its own node: nobody hears a there, and its stream stops at the pipe, so c does not either.
    media[0]!.setParticipant('a', { role: 'host', held: false, muted: true });
    await c.waitFor('a gone from the mix, b still in it', () => c.toneLevelDb(tones.a) < HEARD_DB - 20 && c.toneLevelDb(tones.b) > HEARD_DB, 10_000);
    media[0]!.setParticipant('a', { role: 'host', held: false });
    await c.waitFor('a back in the mix', () => c.toneLevelDb(tones.a) > HEARD_DB, 10_000);
    // Each side lists the other's participants; closing one end takes them out of the other's media.
    expect(ends[0].participants.map((p) => p.id)).toEqual(['two']);
    expect(media[1]!.stage().some((s) => s.participantId === 'a')).toBe(true);
    ends[1].close();
    expect(media[1]!.stage().some((s) => s.participantId === 'a')).toBe(false);
  });

  it(
    'multi-stream participants (the web app) on each node receive the other node’s microphone and camera as their own streams',
    { timeout: 60_000 },
    async () => {
      const media = engines.map((e) => new MediasoupConferenceMedia(e, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log));
      open.push(...media);
      const tones = { x: 700, y: 1_300 } as const;
      const x = new MultiStreamTestClient('x', { portRange: PORTS, toneHz: tones.x });
      const y = new MultiStreamTestClient('y', { portRange: PORTS, toneHz: tones.y });
      open.push(x, y);
      await x.join(sessionSignalling(media[0]!.openSession('x')));
      await y.join(sessionSignalling(media[1]!.openSession('y')));
      open.push(...pair(media[0]!, media[1]!));
      await Promise.all([x.receive(2), y.receive(2)]);
      x.startSending();
      y.startSending();
      for (const [c, other] of [
        [x, 'y'],
        [y, 'x'],
      ] as const) {
        await c.waitFor(`${other}'s tone`, () => c.toneLevelDb(other, tones[other]) > HEARD_DB, 20_000);
        await c.waitFor(`${other}'s video`, () => c.receivedFrom(other, 'video').length >= 25, 20_000);
      }
    },
  );

  it('three nodes, one participant each, a backplane per pair: each hears the two others, not itself (nothing is passed on)', { timeout: 60_000 }, async () => {
    const media = [...engines, third].map((e) => new MediasoupConferenceMedia(e, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log));
    open.push(...media);
    const tones = { p: 830, q: 1_240, r: 1_630 } as const;
    const clients = (['p', 'q', 'r'] as const).map((n) => new MediaTestClient(n, PORTS, { toneHz: tones[n] }));
    open.push(...clients);
    for (const [i, c] of clients.entries()) await c.join(media[i]!);
    for (const c of clients) c.startSending(20, ['audio']);
    open.push(...pair(media[0]!, media[1]!), ...pair(media[0]!, media[2]!), ...pair(media[1]!, media[2]!));
    for (const c of clients) {
      const others = (['p', 'q', 'r'] as const).filter((n) => n !== c.name);
      await c.waitFor(`${others.join(' and ')} in ${c.name}'s mix`, () => others.every((o) => c.toneLevelDb(tones[o]) > HEARD_DB), 20_000);
      const own = () => c.toneLevelDb(tones[c.name as keyof typeof tones]) < Math.min(...others.map((o) => c.toneLevelDb(tones[o]))) - 20;
      await c.waitFor(`${c.name}'s own tone absent`, own, 10_000);
    }
    // Each node pipes only its own participant's stream; the others' arrive once each, over their own backplane.
    expect(media.map((m) => [...new Set(m.localStreams().map((s) => s.participantId))])).toEqual([['p'], ['q'], ['r']]);
  });
});
