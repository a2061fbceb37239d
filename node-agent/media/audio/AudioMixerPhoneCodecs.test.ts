import { afterEach, describe, expect, it } from 'vitest';
import { AudioMixer } from './AudioMixer.js';
import type { NarrowCodec } from './AudioMixerTypes.js';
import { G711Decoder, G711Encoder } from './G711.js';
import { G722Decoder, G722Encoder } from './G722.js';
import { parseRtp, writeRtp } from './rtpPacket.js';
import { db, decodeAll, FRAME, FREQ, power, RATE, ToneSource } from './audioTestSupport.js';

const PT: Record<NarrowCodec, number> = { pcmu: 0, pcma: 8, g722: 9 };

/** A phone's stream (G.711 or G.722): the tone at 48 kHz encoded to 160 bytes per 20 ms, RTP clock 8000. */
class PhoneTone {
  private readonly encoder: G711Encoder | G722Encoder;
  private n = 0;
  private seq = 500;
  private ts = 12_345;
  constructor(
    readonly law: NarrowCodec,
    readonly freq: number,
    readonly ssrc: number,
  ) {
    this.encoder = law === 'g722' ? new G722Encoder(RATE, 1) : new G711Encoder(law, RATE, 1);
  }
  next(): Buffer {
    const pcm = Int16Array.from({ length: FRAME }, (_, i) => Math.round(0.3 * 32_767 * Math.sin((2 * Math.PI * this.freq * (this.n * FRAME + i)) / RATE)));
    this.n++;
    const pkt = writeRtp(PT[this.law], false, this.seq, this.ts, this.ssrc, this.encoder.encode(pcm, FRAME));
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 160) >>> 0;
    return pkt;
  }
}

const open: { close(): void }[] = [];
afterEach(() => {
  for (const x of open.splice(0)) x.close();
});

describe('AudioMixer with G.711 and G.722 phones (transcoding to and from the Opus mix)', () => {
  for (const law of ['pcmu', 'pcma', 'g722'] as const) {
    it(`${law}: the phone hears the Opus participants in ${law}, not itself; they hear the phone in Opus`, () => {
      const mixer = new AudioMixer({ clock: 'manual' });
      const a = new ToneSource(FREQ.A, 0x1001);
      const b = new ToneSource(FREQ.B, 0x1002);
      const phone = new PhoneTone(law, FREQ.C, 0x2001);
      open.push(mixer, a, b);
      mixer.addSource('a');
      mixer.addSource('b');
      mixer.addSource('phone', { codec: law });
      const got: Record<string, Buffer[]> = { a: [], phone: [] };
      mixer.addListener('a', { payloadType: 111, ssrc: 1, includes: (s) => s !== 'a' }, (rtp) => got.a!.push(rtp));
      mixer.addListener('phone', { payloadType: PT[law], codec: law, ssrc: 2, includes: (s) => s !== 'phone' }, (rtp) => got.phone!.push(rtp));
      for (let f = 0; f < 50; f++) {
        mixer.pushRtp('a', a.next());
        mixer.pushRtp('b', b.next());
        mixer.pushRtp('phone', phone.next());
        mixer.tick();
      }
      // The phone's packets: its payload type, 160 bytes, timestamps +160 per 20 ms.
      const rtp = got.phone!.map((p) => parseRtp(p)!);
      expect(rtp.length).toBeGreaterThanOrEqual(45);
      expect(rtp.every((p) => p.payloadType === PT[law] && p.payload.length === 160)).toBe(true);
      expect(rtp.slice(1).every((p, i) => (p.timestamp - rtp[i]!.timestamp) >>> 0 === 160)).toBe(true);
      const decoder = law === 'g722' ? new G722Decoder(RATE, 1) : new G711Decoder(law, RATE, 1);
      const heard = Int16Array.from(rtp.slice(-20).flatMap((p) => [...decoder.decode(p.payload)]));
      const phoneHears = { a: db(power(heard, FREQ.A)), b: db(power(heard, FREQ.B)), self: db(power(heard, FREQ.C)) };
      expect(phoneHears.a, JSON.stringify(phoneHears)).toBeGreaterThan(-20);
      expect(phoneHears.b, JSON.stringify(phoneHears)).toBeGreaterThan(-20);
      expect(phoneHears.self, JSON.stringify(phoneHears)).toBeLessThan(phoneHears.a - 30);
      // a (Opus) hears the phone and b, not itself.
      const aHeard = decodeAll(got.a!, 30);
      const aHears = { phone: db(power(aHeard, FREQ.C)), b: db(power(aHeard, FREQ.B)), self: db(power(aHeard, FREQ.A)) };
      expect(aHears.phone, JSON.stringify(aHears)).toBeGreaterThan(-20);
      expect(aHears.b, JSON.stringify(aHears)).toBeGreaterThan(-20);
      expect(aHears.self, JSON.stringify(aHears)).toBeLessThan(aHears.phone - 30);
    });
  }
});
