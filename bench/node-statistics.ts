/**
 * What the node's media statistics cost its main thread: N multi-stream participants in one
 * conference (each a werift client in its own child process, sending Opus and VP8), measured as
 * the node does every 5 s (MediaStatistics.sample: getStats on each producer and on up to 4
 * consumers per type per participant). Prints JSON: CPU of this process per sample (minus the
 * same wall time idle), wall time per sample, getStats calls per sample.
 *
 *   npx tsx bench/node-statistics.ts [participants=8] [samples=20]
 */
import pino from 'pino';
import { MediasoupConferenceMedia } from '../node-agent/media/mediasoup/MediasoupConferenceMedia.js';
import { MediasoupEngine } from '../node-agent/media/mediasoup/MediasoupEngine.js';
import { CONSUMERS_MEASURED_PER_CALL } from '../node-agent/media/mediasoup/rtpStats.js';
import { MediaStatistics } from '../node-agent/status/MediaStatistics.js';
import { answerSignalling } from '../node-agent/testing/ipcSignalling.js';
import { sessionSignalling } from '../node-agent/testing/MultiStreamTestClient.js';
import { Child } from '../node-agent/testing/rpc.js';

const N = Number(process.argv[2] ?? 8);
const SAMPLES = Number(process.argv[3] ?? 20);
const PORTS: [number, number] = [47100, 47399];
const log = pino({ level: 'silent' });
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const engine = new MediasoupEngine(log, { workers: 1 });
  const media = new MediasoupConferenceMedia(engine, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: 'conference' }, log);
  const ids = Array.from({ length: N }, (_, i) => `p${i}`);
  const children: Child[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      const child = new Child('node-agent/testing/multiStreamClientProcess.ts', id);
      children.push(child);
      answerSignalling(child.proc, sessionSignalling(media.openSession(id)));
      await child.call('join', { name: id, toneHz: 300 + i * 90, address: '127.0.0.1', portRange: PORTS });
    }
    await Promise.all(children.map((c) => c.call('receive', { count: 2 * (N - 1) })));
    await Promise.all(children.map((c) => c.call('startSending')));
    const statistics = new MediaStatistics(() =>
      ids.map((id) => ({ conferenceId: 'bench', participantId: id, measure: () => media.session(id)!.mediaStreams() })),
    );
    for (const id of ids) statistics.track('bench', id);
    await new Promise((r) => setTimeout(r, 3_000));
    await statistics.sample();

    let busyCpu = 0;
    let busyWall = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      await statistics.sample();
      busyCpu += cpuMs() - c0;
      busyWall += performance.now() - t0;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The same process idle for the same wall time: IPC and timers that run anyway.
    const c0 = cpuMs();
    await new Promise((r) => setTimeout(r, busyWall));
    const idleCpu = cpuMs() - c0;
    const perType = Math.min(N - 1, CONSUMERS_MEASURED_PER_CALL);
    const calls = N * (2 + 2 * perType);
    const cpuPerSample = (busyCpu - idleCpu) / SAMPLES;
    console.log(
      JSON.stringify(
        {
          bench: 'node-statistics',
          participants: N,
          samples: SAMPLES,
          getStatsCallsPerSample: calls,
          cpuMsPerSample: Math.round(cpuPerSample * 100) / 100,
          cpuMsPerGetStats: Math.round((cpuPerSample / calls) * 1000) / 1000,
          wallMsPerSample: Math.round((busyWall / SAMPLES) * 100) / 100,
          // At the node's 5-s interval: share of one core spent measuring.
          corePercentAt5s: Math.round((cpuPerSample / 5_000) * 100 * 1000) / 1000,
          reported: statistics
            .all()
            .map((p) => ({ id: p.participantId, quality: p.callQuality, streams: p.streams.length }))
            .slice(0, 2),
        },
        null,
        1,
      ),
    );
  } finally {
    await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
    media.close();
    engine.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
