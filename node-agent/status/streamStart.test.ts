import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallLeg, MeasuredStream } from '../media/MediaTypes.js';
import { MediasoupConferenceMedia } from '../media/mediasoup/MediasoupConferenceMedia.js';
import { MediasoupEngine } from '../media/mediasoup/MediasoupEngine.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';
import { MediaStatistics } from './MediaStatistics.js';

const PORTS: [number, number] = [44400, 44499];
const log = pino({ level: 'silent' });

/**
 * Issue 12, item 1: a participant's end record must date each stream from its first start. Found in
 * an e2e run: a stream "started" at the node's first measurement (up to an interval after the call
 * did), and a stream missing from one measurement (a failed measurement, a renegotiation's gap)
 * came back as a new instance that replaced the earlier one. Real mediasoup and a real WebRTC call;
 * the statistics' clock is moved 5 s per measurement (the node's interval).
 */
describe("a participant's end record keeps each stream's first start (real mediasoup)", () => {
  const engine = new MediasoupEngine(log, { workers: 1 });
  const media = new MediasoupConferenceMedia(engine, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log);
  const c = new MediaTestClient('carol', PORTS, { toneHz: 660 });
  let leg: CallLeg | undefined;
  const joinedAt = Date.parse('2026-01-01T00:00:00Z');
  let clock = joinedAt;
  /** How the next measurement goes: as measured, failed, or with a stream type absent (mid-renegotiation). */
  let next: 'measured' | 'failed' | 'no audio' = 'measured';
  const statistics = new MediaStatistics(
    () => [
      {
        conferenceId: 'conf',
        participantId: 'carol',
        measure: async (): Promise<MeasuredStream[]> => {
          const streams = leg ? await leg.mediaStreams!() : [];
          if (next === 'failed') throw new Error('the transport was closing');
          return next === 'no audio' ? streams.filter((s) => s.type !== 'audio') : streams;
        },
      },
    ],
    { now: () => clock },
  );
  const sampleAt = async (sinceJoinMs: number, how: typeof next = 'measured') => {
    clock = joinedAt + sinceJoinMs;
    next = how;
    await statistics.sample();
  };

  afterAll(async () => {
    await c.close();
    media.close();
    engine.close();
  });

  it('dates streams from before their first measurement, and keeps one stream across gaps', async () => {
    statistics.track('conf', 'carol');
    // Measured once before her media is set up: no streams yet.
    await sampleAt(1_000);
    expect(statistics.participant('carol')!.streams).toEqual([]);
    leg = await c.join(media);
    c.startSending();
    // A second of media before the first measurement.
    await new Promise((r) => setTimeout(r, 1_000));

    await sampleAt(3_000);
    const live = statistics.participant('carol')!.streams;
    expect(live.map((s) => s.type).sort()).toEqual(['audio', 'video']);
    expect(live.find((s) => s.type === 'audio')!.rx!.bitrate).toBeGreaterThan(0);
    // Seen first 3 s into the call: they started after the previous measurement (1 s in), and are dated from it.
    const started = new Date(joinedAt + 1_000).toISOString();
    for (const s of live) expect(s.startTime, s.type).toBe(started);

    await sampleAt(8_000, 'failed');
    expect(
      statistics
        .participant('carol')!
        .streams.map((s) => s.type)
        .sort(),
    ).toEqual(['audio', 'video']);
    await sampleAt(13_000, 'no audio');
    await sampleAt(18_000);
    await new Promise((r) => setTimeout(r, 500));

    clock = joinedAt + 20_000;
    const record = statistics.finish('carol', 'Call disconnected')!;
    const audio = record.mediaStreams.filter((s) => s.type === 'audio');
    // One audio stream over the whole call, from the join to the leave, with its latest figures.
    expect(audio).toHaveLength(1);
    expect(audio[0]).toMatchObject({ startTime: started, endTime: new Date(joinedAt + 20_000).toISOString() });
    expect(audio[0]!.rx!.packets).toBeGreaterThan(0);
    const video = record.mediaStreams.filter((s) => s.type === 'video');
    expect(video).toHaveLength(1);
    expect(video[0]!.startTime).toBe(started);
  });
});
