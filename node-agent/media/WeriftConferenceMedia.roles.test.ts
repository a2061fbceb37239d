/**
 * The media plane acting on service type and roles, with real werift clients over loopback:
 * each client publishes synthetic Opus/VP8 RTP that names its sender, and we assert what each one
 * actually RECEIVES through the SFU.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { WeriftConferenceMedia } from './WeriftConferenceMedia.js';
import { MediaTestClient } from './MediaTestClient.js';
import type { MediaMode } from './MediaTypes.js';

// Our own UDP range so parallel test files never collide.
const PORTS: [number, number] = [46000, 46399];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const open: { media: WeriftConferenceMedia[]; clients: MediaTestClient[] } = { media: [], clients: [] };
afterEach(async () => {
  for (const m of open.media.splice(0)) m.close();
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
});

function conference(mode: MediaMode): WeriftConferenceMedia {
  const media = new WeriftConferenceMedia({ announcedAddress: '127.0.0.1', portRange: PORTS, mode }, pino({ level: 'silent' }));
  open.media.push(media);
  return media;
}
function client(name: string): MediaTestClient {
  const c = new MediaTestClient(name, PORTS);
  open.clients.push(c);
  return c;
}
const senders = (c: MediaTestClient, since: number) => new Set(c.received.filter((p) => p.receivedAt >= since).map((p) => `${p.from}:${p.kind}`));

describe('conference (Virtual Meeting Room)', () => {
  it('a held Guest neither receives nor is seen; after release its media flows both ways', async () => {
    const media = conference('conference');
    // Held before its leg exists (a Guest waiting for a Host).
    media.setParticipant('guest', { role: 'guest', held: true });
    const guest = client('guest');
    const host1 = client('host1');
    const host2 = client('host2');
    await guest.join(media);
    await host1.join(media);
    await host2.join(media);
    // The Guest publishes first, so without hold everyone would watch it.
    guest.startSending();
    await sleep(200);
    host1.startSending();
    host2.startSending();

    await host1.waitFor('host2 video', () => host1.receivedFrom('host2', 'video').length >= 20);
    await host2.waitFor('host1 video', () => host2.receivedFrom('host1', 'video').length >= 20);
    await sleep(500);
    expect(guest.received).toEqual([]);
    expect(host1.receivedFrom('guest')).toEqual([]);
    expect(host2.receivedFrom('guest')).toEqual([]);

    const plisBefore = guest.pliCount;
    const released = Date.now();
    media.setParticipant('guest', { role: 'guest', held: false });
    // Now the Guest, earliest publisher, is the Hosts' source, and it receives host1 (earliest other).
    await host1.waitFor('guest video', () => host1.receivedFrom('guest', 'video', released).length >= 10);
    await host2.waitFor('guest audio', () => host2.receivedFrom('guest', 'audio', released).length >= 10);
    await guest.waitFor('host1 audio+video', () => guest.receivedFrom('host1', 'video').length >= 10 && guest.receivedFrom('host1', 'audio').length >= 10);
    // Switching the Hosts to the Guest asked the Guest for a keyframe.
    await guest.waitFor('a keyframe request', () => guest.pliCount > plisBefore, 5_000);
    expect(senders(guest, 0)).toEqual(new Set(['host1:audio', 'host1:video']));
  });

  it('removeParticipant forgets the hold: the same id joining again is a Host, not held', async () => {
    const media = conference('conference');
    media.setParticipant('p', { role: 'guest', held: true });
    media.removeParticipant('p');
    const p = client('p');
    const host = client('host');
    await p.join(media);
    await host.join(media);
    p.startSending();
    host.startSending();
    await p.waitFor('host video', () => p.receivedFrom('host', 'video').length >= 10);
    await host.waitFor('p video', () => host.receivedFrom('p', 'video').length >= 10);
  });
});

describe('lecture (Virtual Auditorium)', () => {
  it('Guests see Hosts only, fall back per kind while no Host sends it, and follow role changes', async () => {
    const media = conference('lecture');
    media.setParticipant('g1', { role: 'guest', held: false });
    media.setParticipant('g2', { role: 'guest', held: false });
    const g1 = client('g1');
    const g2 = client('g2');
    const host = client('host'); // no setParticipant call: a Host
    await g1.join(media);
    await g2.join(media);
    await host.join(media);
    g1.startSending();
    await sleep(200);
    g2.startSending();

    // No Host publishes: the Guests see each other (guide §21.6).
    await g2.waitFor('g1 video (fallback)', () => g2.receivedFrom('g1', 'video').length >= 10);
    await g1.waitFor('g2 video (fallback)', () => g1.receivedFrom('g2', 'video').length >= 10);

    // The Host sends audio only: Guests hear the Host but still see a Guest.
    host.startSending(20, ['audio']);
    await g2.waitFor('host audio', () => g2.receivedFrom('host', 'audio').length >= 10);
    let since = Date.now();
    await sleep(600);
    expect(senders(g2, since)).toEqual(new Set(['host:audio', 'g1:video']));

    // The Host sends video too: Guests now see only the Host, never another Guest.
    const hostPlis = host.pliCount;
    host.startSending(20, ['audio', 'video']);
    await g2.waitFor('host video', () => g2.receivedFrom('host', 'video').length >= 10);
    await g1.waitFor('host video', () => g1.receivedFrom('host', 'video').length >= 10);
    await host.waitFor('a keyframe request for the new viewers', () => host.pliCount > hostPlis, 5_000);
    since = Date.now();
    await sleep(800);
    expect(senders(g1, since)).toEqual(new Set(['host:audio', 'host:video']));
    expect(senders(g2, since)).toEqual(new Set(['host:audio', 'host:video']));
    // A Host receives anyone: the earliest other publisher, a Guest here.
    expect(senders(host, since)).toEqual(new Set(['g1:audio', 'g1:video']));

    // g1 is made a Host; it published before the Host, so g2 switches to it, with a keyframe.
    const g1Plis = g1.pliCount;
    media.setParticipant('g1', { role: 'host', held: false });
    const changed = Date.now();
    await g2.waitFor('g1 video after the role change', () => g2.receivedFrom('g1', 'video', changed).length >= 10);
    await g1.waitFor('a keyframe request', () => g1.pliCount > g1Plis, 5_000);
    since = Date.now();
    await sleep(600);
    expect(senders(g2, since)).toEqual(new Set(['g1:audio', 'g1:video']));
  });
});

describe('reception (Virtual Reception)', () => {
  it('forwards nothing although media arrives', async () => {
    const media = conference('reception');
    const a = client('a');
    const b = client('b');
    const legA = await a.join(media);
    const legB = await b.join(media);
    a.startSending();
    b.startSending();
    // The SFU does get the media...
    await a.waitFor('media in at the node', () => legA.stats().packetsIn.video >= 25 && legB.stats().packetsIn.video >= 25);
    await sleep(300);
    // ...and sends none of it on.
    expect(a.received).toEqual([]);
    expect(b.received).toEqual([]);
    expect(legA.stats().packetsOut).toEqual({ audio: 0, video: 0 });
    expect(legB.stats().packetsOut).toEqual({ audio: 0, video: 0 });
  });
});
