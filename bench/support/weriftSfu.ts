/**
 * Child process: the werift SFU under test (node-agent/media/WeriftConferenceMedia, a VMR), one
 * single-stream leg per participant. The benchmark reads this process's CPU from /proc.
 */
import './loopbackInterfaces.js';
import pino from 'pino';
import type { CallLeg } from '../../node-agent/media/MediaTypes.js';
import { WeriftConferenceMedia } from './werift/WeriftConferenceMedia.js';
import { LoopLag } from './loopLag.js';
import { serve } from '../../node-agent/testing/rpc.js';

const portRange = (process.env.BENCH_PORTS ?? '41000-41999').split('-').map(Number) as [number, number];
const media = new WeriftConferenceMedia({ announcedAddress: '127.0.0.1', portRange, mode: 'conference' }, pino({ level: 'warn' }));
const legs = new Map<string, CallLeg>();
const lag = new LoopLag();

serve({
  /** A participant's offer (the Chromium publisher, or a receive-only subscriber) → the SFU's answer. */
  async join({ participantId, offer }: { participantId: string; offer: string }) {
    const leg = media.createLeg(participantId);
    legs.set(participantId, leg);
    return leg.negotiate(offer);
  },
  leave({ participantId }: { participantId: string }) {
    media.removeParticipant(participantId);
    legs.delete(participantId);
  },
  /** Packet counters from the legs' stats(): in = received from clients, out = forwarded to clients. */
  counters() {
    let packetsIn = 0;
    let packetsOut = 0;
    for (const leg of legs.values()) {
      const s = leg.stats();
      packetsIn += s.packetsIn.audio + s.packetsIn.video;
      packetsOut += s.packetsOut.audio + s.packetsOut.video;
    }
    return { packetsIn, packetsOut };
  },
  lagReset: () => lag.reset(),
  lagRead: () => lag.read(),
  close() {
    media.close();
    legs.clear();
    setTimeout(() => process.exit(0), 200);
  },
});
