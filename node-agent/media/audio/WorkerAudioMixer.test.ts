import { afterEach, describe, expect, it } from 'vitest';
import { WorkerAudioMixer } from './WorkerAudioMixer.js';
import { decodeAll, ToneSource, tonesDb, type Name } from './audioTestSupport.js';
import { parseRtp } from './rtpPacket.js';

const open: WorkerAudioMixer[] = [];
const tones: ToneSource[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.close();
  for (const t of tones.splice(0)) t.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(clock: 'manual' | 'timer') {
  const mixer = new WorkerAudioMixer({ clock });
  open.push(mixer);
  const src = {} as Record<Name, ToneSource>;
  let ssrc = 0x2000;
  for (const name of ['A', 'B', 'C'] as Name[]) {
    src[name] = new ToneSource(name === 'A' ? 440 : name === 'B' ? 660 : 880, ssrc++);
    tones.push(src[name]);
    mixer.addSource(name);
  }
  const got = new Map<string, Buffer[]>();
  const listen = (id: string, includes: (s: string) => boolean) => {
    got.set(id, []);
    mixer.addListener(id, { payloadType: 111, ssrc: 0x100 + got.size, includes, initialSeq: 0, initialTimestamp: 0 }, (p) => got.get(id)!.push(Buffer.from(p)));
  };
  const push = () => {
    for (const name of ['A', 'B', 'C'] as Name[]) mixer.pushRtp(name, src[name].next());
  };
  return { mixer, got, listen, push };
}

describe('WorkerAudioMixer (mixing in a worker thread)', () => {
  it('mixes minus self and filters Guests, as the in-thread mixer does', async () => {
    const { mixer, got, listen, push } = setup('manual');
    listen('A', (s) => s !== 'A');
    listen('guest', (s) => s === 'A');
    for (let f = 0; f < 80; f++) {
      push();
      mixer.tick();
    }
    await mixer.settled();
    expect(got.get('A')).toHaveLength(80);
    const seqs = got.get('A')!.map((p) => parseRtp(p)!.sequenceNumber);
    expect(seqs).toEqual([...Array(80).keys()]);
    const a = tonesDb(decodeAll(got.get('A')!, 20));
    expect(a.B).toBeGreaterThan(-20);
    expect(a.C).toBeGreaterThan(-20);
    expect(Math.min(a.B, a.C) - a.A).toBeGreaterThanOrEqual(20);
    const g = tonesDb(decodeAll(got.get('guest')!, 20));
    expect(g.A - Math.max(g.B, g.C)).toBeGreaterThanOrEqual(20);

    const st = mixer.stats();
    expect(st.frames).toBe(80);
    expect(st.packetsOut).toBe(160);
    expect(st.packetsIn).toBe(240);
    expect(mixer.levels().get('B')).toBeGreaterThan(-20);

    // Garbage never throws on either side.
    for (const junk of [undefined, Buffer.alloc(3), Buffer.alloc(100, 0xff), 'x'] as unknown[]) mixer.pushRtp('B', junk as Buffer);
    mixer.pushRtp('nobody', Buffer.alloc(40, 0x80));
    mixer.tick();
    await mixer.settled();
    expect(mixer.stats().dropped.malformed).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('runs on its own clock, follows includes changes, and survives its worker dying', async () => {
    const { mixer, got, listen, push } = setup('timer');
    let hearsB = true;
    listen('L', (s) => s === 'C' || (s === 'B' && hearsB));
    await mixer.settled(); // worker up
    const feed = setInterval(push, 20);
    try {
      await sleep(1000);
      const during = got.get('L')!.length;
      expect(during).toBeGreaterThan(20); // ~50; generous for a loaded machine
      hearsB = false;
      await sleep(600);
      // B is gone from the mix (C may be patchy if this loaded machine starves the feed, so
      // compare B with what a mixed tone measures, -10.5 dB, not with C).
      const afterMute = tonesDb(decodeAll(got.get('L')!.slice(-20)));
      expect(afterMute.B).toBeLessThan(-35);

      // Kill the worker: a new one takes over, and the stream's sequence numbers continue.
      await mixer['worker']!.terminate();
      // Read after the worker is gone: a batch already in flight may still land before terminate returns.
      const n = got.get('L')!.length;
      const lastBefore = parseRtp(got.get('L')![n - 1]!)!.sequenceNumber;
      // The new worker boots through tsx: allow a slow machine plenty of time.
      for (let waited = 0; got.get('L')!.length - n <= 10 && waited < 20_000; waited += 100) await sleep(100);
      expect(mixer.stats().workerRestarts).toBe(1);
      const resumed = got.get('L')!.slice(n);
      expect(resumed.length).toBeGreaterThan(10);
      expect(parseRtp(resumed[0]!)!.sequenceNumber).toBe((lastBefore + 1) & 0xffff);
    } finally {
      clearInterval(feed);
    }
    mixer.close();
    const count = got.get('L')!.length;
    await sleep(100);
    expect(got.get('L')!.length).toBe(count);
  }, 60_000);
});
