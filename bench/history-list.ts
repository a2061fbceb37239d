/**
 * Conference history at scale, on the real management server: 100,000 participant records (in
 * 5,000 conferences of 20 calls, each call with an audio and a video stream, spread over 50 days)
 * and history/v1 `participant` listed the way a CDR script asks: limit 20, a start-time filter and
 * `order_by=-start_time`, over real HTTP with Basic auth. Also the console's conference list. Prints JSON.
 *
 *   npx tsx bench/history-list.ts [--participants 100000] [--requests 200] [--postgres postgres://…]
 *
 * The database is fresh: PGlite in a temp dir, or (with --postgres or BENCH_DATABASE_URL) a new
 * database on that server, dropped at the end. Records are generated straight into the tables
 * (the node path is what the integration tests cover); requests are sequential, after a warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { sql } from 'drizzle-orm';
import { mediaStreamHistory, participantHistory } from '../db/schema.js';
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
/** Deterministic "random" choices, so runs are comparable. */
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

/**
 * Conferences spread evenly over DAYS, each 30 min long; its calls start 10 s apart and end in its
 * last 10 minutes. Generated in the database (generate_series), so seeding takes seconds.
 */
async function seedHistory(h: DatabaseHandle): Promise<{ conferences: number; streams: number }> {
  const conferences = Math.ceil(PARTICIPANTS / PER_CONFERENCE);
  const spanMs = Math.floor((DAYS * 86_400_000) / conferences);
  const t0 = new Date(T0).toISOString();
  await h.db.execute(sql`
    insert into conference_history (id, name, service_type, start_time, end_time, duration, participant_count, node)
    select '00000000-0000-4000-1000-' || lpad(c::text, 12, '0'), 'Room ' || (c % ${ROOMS}), 'conference',
      ${t0}::timestamptz + (c::bigint * ${spanMs}) * interval '1 millisecond',
      ${t0}::timestamptz + (c::bigint * ${spanMs} + 1800000) * interval '1 millisecond', 1800, ${PER_CONFERENCE}, 'node-1'
    from generate_series(0, ${conferences - 1}) c`);
  await h.db.execute(sql`
    insert into participant_history (id, conference_id, conference_name, display_name, local_alias, remote_address, role, service_type, protocol,
      call_quality, start_time, end_time, duration, disconnect_reason, media_node, signalling_node, system_location, details)
    select '00000000-0000-4000-2000-' || lpad(i::text, 12, '0'), '00000000-0000-4000-1000-' || lpad((i / ${PER_CONFERENCE})::text, 12, '0'),
      'Room ' || ((i / ${PER_CONFERENCE}) % ${ROOMS}), 'Person ' || ((i * 7919) % 10000), 'meet.room' || ((i / ${PER_CONFERENCE}) % ${ROOMS}),
      '10.0.' || ((i * 31) % 256) || '.' || ((i * 17) % 256), case when i % ${PER_CONFERENCE} = 0 then 'chair' else 'guest' end, 'conference', 'webrtc',
      (array['1_good', '2_ok', '3_bad'])[1 + (i * 13) % 3],
      ${t0}::timestamptz + ((i / ${PER_CONFERENCE})::bigint * ${spanMs} + (i % ${PER_CONFERENCE}) * 10000) * interval '1 millisecond',
      ${t0}::timestamptz + ((i / ${PER_CONFERENCE})::bigint * ${spanMs} + 1800000 - ((i * 37) % 600) * 1000) * interval '1 millisecond',
      1800 - ((i * 37) % 600) - (i % ${PER_CONFERENCE}) * 10, 'Call disconnected', 'node-1', 'node-1', 'Oslo',
      '{"service_tag": "", "encryption": "On", "has_media": true, "bandwidth": 1200, "rx_bandwidth": 600, "tx_bandwidth": 600}'::jsonb
    from generate_series(0, ${PARTICIPANTS - 1}) i`);
  await h.db.execute(sql`
    insert into media_stream_history (participant_id, stream_id, stream_type, node, start_time, end_time, figures)
    select p.id, p.id || '-' || t.kind, t.kind, 'node-1', p.start_time, p.end_time,
      jsonb_build_object('rx_codec', case when t.kind = 'audio' then 'opus' else 'VP8' end, 'rx_bitrate', 40 + (length(p.display_name) * 37) % 500,
        'rx_packet_loss', 0.1, 'rx_packets_received', 90000)
    from participant_history p cross join (values ('audio'), ('video')) t(kind)`);
  const [ps] = await h.db.select({ n: sql<number>`count(*)::int` }).from(participantHistory);
  const [ms] = await h.db.select({ n: sql<number>`count(*)::int` }).from(mediaStreamHistory);
  if (ps?.n !== PARTICIPANTS) throw new Error(`seeded ${ps?.n} participants`);
  return { conferences, streams: ms?.n ?? 0 };
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
