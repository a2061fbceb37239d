/**
 * Conference history at scale, on the real management server: 100,000 participant records (in
 * 5,000 conferences of 20 calls, each call with an audio and a video stream, spread over 50 days)
 * and history/v1 `participant` listed the way a CDR script asks: limit 20, a start-time filter and
 * `order_by=-start_time`, over real HTTP with Basic auth. Also the console's conference list. Prints JSON.
 *
 *   npx tsx bench/history-list.ts [--participants 100000] [--requests 200] [--postgres postgres://…]
 *
 * The database is fresh: PGlite in a temp dir, or (with --postgres or BENCH_DATABASE_URL) a new
 * database on that server, dropped at the end. Records are written straight to the tables (the
 * node path is what the integration tests cover); requests are sequential, after a warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { conferenceHistory, mediaStreamHistory, participantHistory } from '../db/schema.js';
import { freshPostgres } from '../db/testing.js';
import { ManagementServer } from '../server/ManagementServer.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const PARTICIPANTS = Number(arg('participants') ?? 100_000);
const PER_CONFERENCE = 20;
const N = Number(arg('requests') ?? 200);
const WARMUP = 10;
const DAYS = 50;
const PG_URL = arg('postgres') ?? process.env.BENCH_DATABASE_URL;
const PASSWORD = 'bench-pw';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const H = '/api/admin/history/v1';
const T0 = Date.UTC(2026, 0, 1);
/** Services the conferences are spread over (each name recurs). */
const ROOMS = Math.min(500, Math.ceil(PARTICIPANTS / PER_CONFERENCE));

let seed = 42;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const p = (q: number) => round(s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!, 2);
  return { n: s.length, p50: p(50), p95: p(95), max: round(s[s.length - 1]!, 2) };
}
const uuid = (kind: number, i: number) => `00000000-0000-4000-${kind}000-${String(i).padStart(12, '0')}`;

/** Conferences spread evenly over DAYS, each 30 min long; its calls start in its first minutes. */
async function seedHistory(h: DatabaseHandle): Promise<{ conferences: number; streams: number }> {
  const conferences = Math.ceil(PARTICIPANTS / PER_CONFERENCE);
  const span = (DAYS * 86_400_000) / conferences;
  const BATCH = 2_000;
  let streams = 0;
  for (let c0 = 0; c0 < conferences; c0 += BATCH / PER_CONFERENCE) {
    const cs: (typeof conferenceHistory.$inferInsert)[] = [];
    const ps: (typeof participantHistory.$inferInsert)[] = [];
    const ms: (typeof mediaStreamHistory.$inferInsert)[] = [];
    for (let c = c0; c < Math.min(conferences, c0 + BATCH / PER_CONFERENCE); c++) {
      const start = T0 + c * span;
      const id = uuid(1, c);
      const name = `Room ${c % ROOMS}`;
      cs.push({
        id,
        name,
        serviceType: 'conference',
        startTime: new Date(start),
        endTime: new Date(start + 1_800_000),
        duration: 1_800,
        participantCount: PER_CONFERENCE,
        node: 'node-1',
      });
      for (let k = 0; k < PER_CONFERENCE && c * PER_CONFERENCE + k < PARTICIPANTS; k++) {
        const pid = uuid(2, c * PER_CONFERENCE + k);
        const pStart = start + k * 10_000;
        const pEnd = start + 1_800_000 - rand(600) * 1_000;
        ps.push({
          id: pid,
          conferenceId: id,
          conferenceName: name,
          displayName: `Person ${rand(10_000)}`,
          localAlias: `meet.room${c % ROOMS}`,
          remoteAddress: `10.0.${rand(256)}.${rand(256)}`,
          role: k === 0 ? 'chair' : 'guest',
          serviceType: 'conference',
          protocol: 'webrtc',
          callQuality: ['1_good', '2_ok', '3_bad'][rand(3)]!,
          startTime: new Date(pStart),
          endTime: new Date(pEnd),
          duration: Math.round((pEnd - pStart) / 1000),
          disconnectReason: 'Call disconnected',
          mediaNode: 'node-1',
          signallingNode: 'node-1',
          systemLocation: 'Oslo',
          details: { service_tag: '', encryption: 'On', has_media: true, bandwidth: 1_200, rx_bandwidth: 600, tx_bandwidth: 600 },
        });
        for (const type of ['audio', 'video'] as const) {
          ms.push({
            participantId: pid,
            streamId: `${pid}-${type}`,
            streamType: type,
            node: 'node-1',
            startTime: new Date(pStart),
            endTime: new Date(pEnd),
            figures: { rx_codec: type === 'audio' ? 'opus' : 'VP8', rx_bitrate: 40 + rand(500), rx_packet_loss: rand(300) / 100, rx_packets_received: 90_000 },
          });
        }
      }
    }
    await h.db.insert(conferenceHistory).values(cs);
    await h.db.insert(participantHistory).values(ps);
    await h.db.insert(mediaStreamHistory).values(ms);
    streams += ms.length;
  }
  return { conferences, streams };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'om-bench-history-'));
  const handle = PG_URL ? await freshPostgres(PG_URL, 'om_bench') : await openDatabase({ dataDir: join(dir, 'db') });
  const server = await ManagementServer.start({
    port: 0,
    database: handle,
    adminPassword: PASSWORD,
    enrollmentKey: 'bench-key',
    webRoot: '/nonexistent',
    logger: pino({ level: 'warn' }),
  });
  try {
    const t0 = performance.now();
    const seeded = await seedHistory(handle);
    const seedS = round((performance.now() - t0) / 1000);

    const get = async (path: string) => {
      const r = await fetch(server.url + path, { headers: { authorization: BASIC } });
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { meta: { total_count: number }; objects: unknown[] };
    };
    const day = (d: number) => new Date(T0 + d * 86_400_000).toISOString().replace('.000Z', 'Z');
    const time = async (make: () => string) => {
      for (let i = 0; i < WARMUP; i++) await get(make());
      const ms: number[] = [];
      let lastTotal = 0;
      for (let i = 0; i < N; i++) {
        const path = make();
        const s = performance.now();
        const page = await get(path);
        ms.push(performance.now() - s);
        if (page.objects.length === 0) throw new Error(`${path}: empty page`);
        lastTotal = page.meta.total_count;
      }
      return { ...stats(ms), lastTotal };
    };
    // A script's CDR pull: the calls since a day, newest first, a page of 20 (sometimes further in).
    const participantList = await time(() => `${H}/participant/?limit=20&offset=${rand(5) * 20}&start_time__gte=${day(rand(DAYS - 1))}&order_by=-start_time`);
    // A day's window (both ends), oldest first.
    const participantWindow = await time(() => {
      const d = rand(DAYS - 1);
      return `${H}/participant/?limit=20&start_time__gte=${day(d)}&end_time__lt=${day(d + 1)}&order_by=start_time`;
    });
    const conferenceList = await time(() => `${H}/conference/?limit=20&start_time__gte=${day(rand(DAYS - 1))}&order_by=-start_time`);
    const byName = await time(() => `${H}/participant/?limit=20&conference=Room%20${rand(ROOMS)}&order_by=-start_time`);

    console.log(
      JSON.stringify(
        {
          bench: 'history-list',
          database: PG_URL ? 'postgres' : 'pglite',
          cpus: cpus().length,
          records: { participants: PARTICIPANTS, conferences: seeded.conferences, mediaStreams: seeded.streams },
          seedSeconds: seedS,
          requests: N,
          ms: {
            'participant limit=20 start_time__gte order_by=-start_time': participantList,
            'participant limit=20 start_time__gte end_time__lt order_by=start_time': participantWindow,
            'conference limit=20 start_time__gte order_by=-start_time': conferenceList,
            'participant limit=20 conference=<name> order_by=-start_time': byName,
          },
          rssMiB: round(process.memoryUsage().rss / 1024 / 1024),
        },
        null,
        2,
      ),
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
