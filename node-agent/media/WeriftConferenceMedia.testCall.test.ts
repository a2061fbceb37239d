/**
 * Test Call Service (guide §15): each caller sees and hears itself, `loopbackDelayMs` late
 * (2 s by default). Real werift clients over loopback; the payload of every packet carries its
 * send time, so we measure the delay end to end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { WeriftConferenceMedia } from './WeriftConferenceMedia.js';
import { MediaTestClient } from './MediaTestClient.js';

// Our own UDP range so parallel test files never collide.
const PORTS: [number, number] = [46400, 46799];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const open: { media: WeriftConferenceMedia[]; clients: MediaTestClient[] } = { media: [], clients: [] };
afterEach(async () => {
  for (const m of open.media.splice(0)) m.close();
  await Promise.all(open.clients.splice(0).map((c) => c.close()));
});

function testCall(loopbackDelayMs?: number): WeriftConferenceMedia {
  const media = new WeriftConferenceMedia(
    { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'test_call', ...(loopbackDelayMs === undefined ? {} : { loopbackDelayMs }) },
    pino({ level: 'silent' }),
  );
  open.media.push(media);
  return media;
}
function client(name: string): MediaTestClient {
  const c = new MediaTestClient(name, PORTS);
  open.clients.push(c);
  return c;
}

describe('test_call', () => {
  it('loops each caller’s own audio and video back after the default 2 s, in order, to nobody else', async () => {
    const media = testCall();
    const a = client('a');
    const b = client('b');
    await a.join(media);
    await b.join(media);
    const started = Date.now();
    a.startSending();
    b.startSending();

    await a.waitFor('own video back', () => a.receivedFrom('a', 'video').length >= 20, 15_000);
    await b.waitFor('own audio back', () => b.receivedFrom('b', 'audio').length >= 20, 15_000);
    // Nothing came back before ~the delay.
    const first = Math.min(...a.received.map((p) => p.receivedAt));
    expect(first - started).toBeGreaterThanOrEqual(0.8 * 2_000);

    for (const [c, own] of [[a, 'a'], [b, 'b']] as const) {
      // Only its own media, never the other caller's.
      expect(new Set(c.received.map((p) => p.from))).toEqual(new Set([own]));
      expect(new Set(c.received.map((p) => p.kind))).toEqual(new Set(['audio', 'video']));
      for (const p of c.received) {
        const lag = p.receivedAt - p.sentAt;
        expect(lag).toBeGreaterThanOrEqual(0.8 * 2_000);
        expect(lag).toBeLessThan(2_000 + 1_000); // generous slack on a loaded 2-core machine
      }
      // Replayed in the order it was sent.
      const videoN = c.receivedFrom(own, 'video').map((p) => p.n);
      expect(videoN).toEqual([...videoN].sort((x, y) => x - y));
    }
  });

  it('honours loopbackDelayMs, relays the caller’s keyframe requests to itself and stops on removal', async () => {
    const media = testCall(600);
    const a = client('a');
    await a.join(media);
    const joined = Date.now();
    a.startSending();
    await a.waitFor('own video back', () => a.receivedFrom('a', 'video').length >= 10, 10_000);
    const lags = a.received.map((p) => p.receivedAt - p.sentAt).sort((x, y) => x - y);
    expect(lags[0]).toBeGreaterThanOrEqual(0.8 * 600);
    expect(lags[Math.floor(lags.length / 2)]).toBeLessThan(600 + 400);

    // A PLI from the caller's decoder reaches its own publisher. Wait out the node's own keyframe
    // requests after connect (up to 3 s, later under load) so the one we count can only be relayed.
    await sleep(Math.max(400, joined + 3_400 - Date.now()));
    for (let quiet = a.pliCount; ; quiet = a.pliCount) {
      await sleep(500);
      if (a.pliCount === quiet) break;
    }
    const before = a.pliCount;
    // Repeat (as a decoder does) in case one lands inside the node's 300 ms rate limit.
    for (let tries = 0; tries < 10 && a.pliCount === before; tries++) {
      await a.requestKeyframe();
      await sleep(400);
    }
    expect(a.pliCount).toBeGreaterThan(before);

    // Removal drops what is still queued: nothing more arrives after the delay has passed.
    media.removeParticipant('a');
    const removed = Date.now();
    await sleep(600 + 500);
    expect(a.received.filter((p) => p.receivedAt > removed + 100)).toEqual([]);
  });
});
