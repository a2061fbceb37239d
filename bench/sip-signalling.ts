/**
 * The SIP stack's own call setup rate (node-agent/sip/SipServer): sipp places calls (INVITE with an
 * Opus offer → 100 → 200 with an SDP answer → ACK → 0.5 s → BYE → 200, no RTP) at increasing rates
 * against a SipServer whose service answers at once. No conference or media transport is made, so
 * this is the signalling layer's ceiling, not a VMR's (that needs the whole node). Prints JSON.
 *
 *   npx tsx bench/sip-signalling.ts [seconds=5] [rates=50,100,200,400]
 *
 * For each rate (calls per second): calls placed, failed, the failure share, and the INVITE→200
 * times (sipp's rtd) median and p95 in ms, the run's length, and the share of one core the SIP server's
 * process used over it (sipp runs in its own process).
 */
import { join } from 'node:path';
import pino from 'pino';
import { nodeConfigSnapshotSchema } from '../shared/node-protocol/messages.js';
import { ServiceDirectory } from '../node-agent/conference/ServiceDirectory.js';
import { SipServer } from '../node-agent/sip/SipServer.js';
import { quantile, sippCalls } from './support/sipp.js';

const SECONDS = Number(process.argv[2] ?? 5);
const RATES = (process.argv[3] ?? '50,100,200,400').split(',').map(Number);
const scenario = join(import.meta.dirname, '../node-agent/sip/sipp/invite-call.xml');

const directory = new ServiceDirectory();
directory.load(
  nodeConfigSnapshotSchema.parse({
    version: 'bench',
    generatedAt: new Date().toISOString(),
    node: { id: 1, name: 'bench', systemLocation: 'Bench' },
    services: [{ id: 1, name: 'Bench', serviceType: 'conference', pin: '', guestPin: '', allowGuests: false, participantLimit: null, aliases: ['bench'] }],
  }),
);
const answer = Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n');
const server = new SipServer({
  host: '127.0.0.1',
  port: 0,
  directory,
  log: pino({ level: 'silent' }),
  maxInviteTransactionsPerSource: 100_000,
  onServiceInvite: () =>
    Promise.resolve({
      status: 200,
      reason: 'OK',
      body: answer,
      dialog: { ended: () => undefined, reinvite: () => Promise.resolve({ status: 488, reason: 'Not Acceptable Here' }) },
    }),
});
const port = await server.start();

const results = [];
for (const rate of RATES) {
  const calls = rate * SECONDS;
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const { failed, setupMs } = await sippCalls({ scenario, target: `127.0.0.1:${port}`, service: 'bench', rate, calls, timeoutS: SECONDS * 4 + 20 });
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (Date.now() - t0) / 1000;
  results.push({
    rate,
    calls,
    // Placing the calls takes SECONDS; each lasts 0.5 s more. A rate sipp could not hold shows here.
    elapsedS: Math.round(elapsed * 10) / 10,
    failed,
    failureShare: Math.round((failed / calls) * 10_000) / 10_000,
    setupMs: { median: quantile(setupMs, 0.5), p95: quantile(setupMs, 0.95), samples: setupMs.length },
    serverCpuShare: Math.round(((cpu.user + cpu.system) / 1000 / (Date.now() - t0)) * 100) / 100,
  });
}
await server.stop();
console.log(JSON.stringify({ seconds: SECONDS, results }, null, 2));
