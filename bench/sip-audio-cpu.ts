/**
 * CPU per SIP audio participant (issue 13's figure): 2, 6 and 12 real baresip phones, each with
 * its own tone, in one Virtual Meeting Room; the node decodes every phone, mixes each one's
 * audio without itself and encodes it in the phone's codec. Codecs alternate Opus, G.711 µ-law
 * and G.722, so transcoding is part of it. Prints JSON.
 *
 *   npx tsx bench/sip-audio-cpu.ts [counts=2,6,12] [measureSeconds=10]
 *
 * For each count: the node process's CPU (management server, node agent, the mixer's worker
 * thread) and its mediasoup workers' CPU over the window, as shares of one core, in total and per
 * phone, with the idle node's share before the calls subtracted. baresip's own CPU is not counted.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { until } from '../shared/testing/until.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { baresipCall, toneLevelDb } from '../node-agent/testing/baresip.js';
import { cpuSeconds, processTree } from './support/procStats.js';

const COUNTS = (process.argv[2] ?? '2,6,12').split(',').map(Number);
const MEASURE_S = Number(process.argv[3] ?? 10);
const CODECS = ['opus/48000/2', 'PCMU/8000/1', 'G722/16000/1'];

const platform = await TestPlatform.start({ node: { sipPort: 0 } });
await platform.rest('POST', 'conference/', { name: 'Bench room', aliases: [{ alias: 'bench.audio' }] });
await until(
  () => platform.node.manager.directory.lookup('bench.audio'),
  (s) => s !== undefined,
  10_000,
);
const port = platform.node.sip!.port!;

const isWorker = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('mediasoup');
  } catch {
    return false;
  }
};
/** The node process and its mediasoup workers (baresip children are left out). */
const nodeCpu = () =>
  cpuSeconds(process.pid) +
  processTree(process.pid)
    .filter(isWorker)
    .reduce((s, pid) => s + cpuSeconds(pid), 0);
async function share(seconds: number): Promise<number> {
  const c0 = nodeCpu();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (nodeCpu() - c0) / ((Date.now() - t0) / 1000);
}
const sipParticipants = () =>
  platform.node.manager.conferences().reduce((n, c) => n + c.participants.filter((p) => p.protocol === 'sip' && p.leg !== null).length, 0);
const round = (x: number) => Math.round(x * 1000) / 1000;

const idle = await share(5);
const results = [];
for (const count of COUNTS) {
  let measured: number | null = null;
  let connectedAfter = 0;
  // The others hold long enough for a dozen baresips to start on two busy cores, the window, and a margin.
  const holdMs = (MEASURE_S + 45) * 1000;
  const calls = Array.from({ length: count }, (_, i) =>
    baresipCall(`sip:bench.audio@127.0.0.1:${port}`, {
      toneHz: 300 + 50 * i,
      audioCodecs: CODECS[i % CODECS.length]!,
      // Phone 0's keypad step (run after its holdMs, then it hangs up) is the measurement.
      holdMs: i === 0 ? 1_000 : holdMs,
      during: async () => {
        if (i !== 0) return;
        await until(sipParticipants, (n) => n === count, 40_000);
        await new Promise((r) => setTimeout(r, 3_000));
        measured = await share(MEASURE_S);
        // The window counts only if every phone was still in the call at its end.
        connectedAfter = sipParticipants();
      },
    }),
  );
  const ended = await Promise.all(calls);
  // A sanity check that the mix flowed: phones whose decoded audio held another phone's tone (its
  // loudest 2-s stretch of the call).
  const hearing = ended.filter((r, i) => {
    if (!r.heard || count < 2) return false;
    const other = 300 + 50 * ((i + 1) % count);
    const recordedMs = (r.heard.samples.length / r.heard.sampleRate) * 1000;
    for (let t = 2_000; t <= recordedMs; t += 1_000) if (toneLevelDb(r.heard, other, t - 2_000, t) > -50) return true;
    return false;
  }).length;
  await until(sipParticipants, (n) => n === 0, 30_000).catch(() => undefined);
  results.push({
    phones: count,
    codecs: CODECS.slice(0, Math.min(count, CODECS.length)),
    nodeCpuShare: measured === null ? null : round(measured),
    perPhoneCpuShare: measured === null ? null : round((measured - idle) / count),
    phonesInCallAfterWindow: connectedAfter,
    phonesHearingAnother: hearing,
  });
}
await platform.stop();
console.log(JSON.stringify({ cores: availableParallelism(), measureSeconds: MEASURE_S, idleNodeCpuShare: round(idle), results }, null, 2));
process.exit(0);
