import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The official SDK's own validator of a statistics object (its `Stream` shape, no extra fields).
import { validateStatisticsBody } from '@pexip/infinity-api/dist/call/validation.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { ManagementServer } from '../../server/ManagementServer.js';
import { callStatistics, participantStatistics, requestTokenResult } from '../../shared/client-api/conference.js';
import type { NodeToServer } from '../../shared/node-protocol/messages.js';
import { until } from '../../shared/testing/until.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';
import { NodeAgent } from '../NodeAgent.js';

/**
 * What a node reports to a real management server: node_load at its default interval (≤ 5 s),
 * media_statistics with each participant's streams, and participant_left with the record a CDR
 * keeps; and the client API's `statistics` over real HTTP, in the shape the Pexip SDK validates.
 * Participants join over the client API; their media are real single-stream calls on mediasoup.
 */
const silent = pino({ level: 'silent' });
const KEY = 'status-reports-key';
const PORTS: [number, number] = [45100, 45299];

describe.each(TEST_DATABASES.slice(0, 1))('node status reports on $name', ({ open }) => {
  let server: ManagementServer;
  let node: NodeAgent;
  const received: { at: number; msg: NodeToServer }[] = [];
  const clients: MediaTestClient[] = [];

  const api = async (path: string, init: { token?: string; body?: unknown; pin?: string; method?: string } = {}) => {
    const res = await fetch(`${node.url}/api/client/v2/conferences/s.room/${path}`, {
      method: init.method ?? 'POST',
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { token: init.token } : {}),
        ...(init.pin ? { pin: init.pin } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as { status: string; result: unknown } };
  };

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    // What reaches the server's live status, after the server has validated it against the protocol.
    const apply = server.status.apply.bind(server.status);
    server.status.apply = (nodeId, msg) => {
      received.push({ at: Date.now(), msg });
      apply(nodeId, msg);
    };
    node = await NodeAgent.start({
      name: 'status-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(joinPath(tmpdir(), 'om-status-')),
      webRoot: '/nonexistent',
      mediaPortRange: PORTS,
      mediaWorkers: 1,
      // Media statistics every second to keep the test short; node load at its default (5 s).
      statusIntervalMs: { media: 1_000 },
      logger: silent,
    });
    await until(() => node.link.connected, Boolean, 10_000);
    const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Status room', aliases: [{ alias: 's.room' }], pin: '1234', allow_guests: true, guest_pin: '' }),
    });
    expect(r.status).toBe(201);
    await until(
      () => node.manager.directory.lookup('s.room'),
      (s) => s !== undefined,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await node?.stop();
    await server?.stop();
  });

  const of = <T extends NodeToServer['type']>(type: T) =>
    received.filter((r) => r.msg.type === type) as { at: number; msg: Extract<NodeToServer, { type: T }> }[];

  it('reports load at most 5 s apart, every participant’s streams, and a record when one leaves; answers statistics in the SDK’s shape', async () => {
    const join = async (name: string, pin: string) => {
      const r = await api('request_token', { body: { display_name: name }, pin });
      expect(r.status).toBe(200);
      return requestTokenResult.parse(r.json.result);
    };
    const host = await join('Hanna', '1234');
    const guest = await join('Gus', 'none');
    const conf = node.manager.conferences().find((c) => c.service.name === 'Status room')!;
    const tones = { [host.participant_uuid]: 440, [guest.participant_uuid]: 660 };
    for (const [id, hz] of Object.entries(tones)) {
      const c = new MediaTestClient(id, PORTS, { toneHz: hz });
      clients.push(c);
      conf.get(id)!.leg = await c.join(conf.media, id);
      c.startSending();
    }
    await clients[1]!.waitFor('the Host heard', () => clients[1]!.toneLevelDb(440) > -40, 20_000);

    // Node load: three reports in a row, each within 5 s of the one before (plus delivery slack).
    const loads = await until(
      () => of('node_load'),
      (l) => l.filter((x) => x.msg.load.signalingCount === 2).length >= 3,
      20_000,
      200,
    );
    const gaps = loads.slice(1).map((l, i) => l.at - loads[i]!.at);
    console.info(`node_load gaps (ms): ${gaps.join(', ')}; last: ${JSON.stringify(loads.at(-1)!.msg.load)}`);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5_500);
    const load = loads.at(-1)!.msg.load;
    expect(load).toMatchObject({ signalingCount: 2, maintenanceMode: false, mediaPorts: { total: 200 }, calls: { hd: 2 } });
    expect(load.mediaPorts.inUse).toBeGreaterThanOrEqual(2);
    expect(load.mediaTokensUsed).toBe(24);
    expect(load.capacity.maxHdCalls).toBeGreaterThan(0);
    expect(load.memory.usedBytes).toBeGreaterThan(0);

    // Media statistics: both participants, with their audio measured both ways.
    const stats = await until(
      () => of('media_statistics').at(-1)?.msg,
      (m) => m !== undefined && m.participants.length === 2 && m.participants.every((p) => (p.streams.find((s) => s.type === 'audio')?.tx?.bitrate ?? 0) > 0),
      15_000,
      200,
    );
    for (const p of stats!.participants) {
      const audio = p.streams.find((s) => s.type === 'audio')!;
      expect(audio.rx).toMatchObject({ codec: 'opus' });
      expect(audio.rx!.bitrate).toBeGreaterThan(0);
      expect(p.streams.find((s) => s.type === 'video')!.rx).toMatchObject({ codec: 'VP8' });
    }

    // The client API: GET answers the node's figures; the SDK's validator accepts them as they are.
    const leg = conf.get(guest.participant_uuid)!.leg!;
    const callPath = `participants/${guest.participant_uuid}/calls/${leg.id}/statistics`;
    const got = await api(callPath, { token: guest.token, method: 'GET' });
    expect(got.status).toBe(200);
    expect(validateStatisticsBody(got.json.result), JSON.stringify(Reflect.get(validateStatisticsBody, 'errors'))).toBe(true);
    const measured = callStatistics.parse(got.json.result);
    expect(measured.audio).toMatchObject({ rx_codec: 'opus', tx_codec: 'opus' });
    expect(measured.audio!.rx_bitrate).toBeGreaterThan(0);
    expect(measured.audio!.tx_packets_sent).toBeGreaterThan(0);
    // POST: the SDK's own report (as pushStatistics builds it) → null, as Pexip; its resolution is kept.
    const sdkReport = {
      audio: { tx_bitrate: 32, tx_codec: 'opus', tx_packets_sent: 500 },
      video: { tx_bitrate: 300, tx_codec: 'VP8', tx_fps: 25, tx_resolution: '640x360', rx_resolution: '1280x720', rx_fps: 30 },
    };
    expect(validateStatisticsBody(sdkReport)).toBe(true);
    expect(await api(callPath, { token: guest.token, body: sdkReport })).toEqual({ status: 200, json: { status: 'success', result: null } });
    expect((await api(callPath, { token: guest.token, body: { audio: { rx_bitrate: 'fast' } } })).status).toBe(400);
    const withReport = await until(
      async () => callStatistics.parse((await api(callPath, { token: guest.token, method: 'GET' })).json.result),
      (m) => m.video?.tx_resolution === '640x360',
      5_000,
      200,
    );
    expect(withReport.video).toMatchObject({ tx_resolution: '640x360', tx_fps: 25, tx_codec: 'VP8' });
    // Another participant's call: a Guest may not read it.
    expect((await api(`participants/${host.participant_uuid}/calls/${leg.id}/statistics`, { token: guest.token, method: 'GET' })).status).toBe(403);
    // Per participant, with the guide's call quality (Unknown under 20 s).
    const perParticipant = participantStatistics.parse(
      (await api(`participants/${guest.participant_uuid}/statistics`, { token: guest.token, method: 'GET' })).json.result,
    );
    expect(perParticipant.call_quality).toBe('0_unknown');
    expect(perParticipant.media.audio?.tx_codec).toBe('opus');

    // A client without a call (multi-stream) reports on itself; not on someone else.
    expect(
      await api(`participants/${host.participant_uuid}/statistics`, { token: host.token, body: { video: { tx_resolution: '320x180', tx_fps: 15 } } }),
    ).toEqual({ status: 200, json: { status: 'success', result: null } });
    expect((await api(`participants/${guest.participant_uuid}/statistics`, { token: host.token, body: { video: { tx_resolution: '1x1' } } })).status).toBe(403);
    const hostStats = await until(
      async () =>
        participantStatistics.parse((await api(`participants/${host.participant_uuid}/statistics`, { token: host.token, method: 'GET' })).json.result),
      (m) => m.media.video?.tx_resolution === '320x180',
      5_000,
      200,
    );
    expect(hostStats.media.video).toMatchObject({ tx_resolution: '320x180', tx_fps: 15 });
    // 320x180 is an SD call in the node's load (guide: SD = half an HD call).
    await until(
      () => of('node_load').at(-1)!.msg.load.calls,
      (c) => c.sd === 1 && c.hd === 1,
      12_000,
      200,
    );

    // /metrics in Prometheus text: every sample line well-formed; the live figures there.
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const samples = parseExposition(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((n, x) => n + x.value, 0);
    expect(value('openmeet_node_conferences', { node: 'status-node' })).toBe(1);
    expect(value('openmeet_node_participants', { protocol: 'api' })).toBe(2);
    expect(value('openmeet_node_participants', { role: 'chair' })).toBe(1);
    expect(value('openmeet_node_media_packets_total', { direction: 'rx' })).toBeGreaterThan(0);
    expect(value('openmeet_node_media_packets_total', { direction: 'tx' })).toBeGreaterThan(0);
    expect(value('openmeet_node_media_load_percent')).toBeGreaterThan(0);
    expect(value('openmeet_node_participants_by_call_quality', { quality: '0_unknown' })).toBe(2);
    expect(samples.some((x) => x.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);

    // The Guest leaves: the server gets the record a CDR keeps.
    expect((await api('release_token', { token: guest.token })).status).toBe(200);
    const left = await until(
      () => of('participant_left').find((l) => l.msg.participantId === guest.participant_uuid),
      (l) => l !== undefined,
      5_000,
    );
    const record = left!.msg.record!;
    console.info(`participant_left record: ${JSON.stringify(record).slice(0, 600)}`);
    expect(record.disconnectReason).toBeTruthy();
    expect(record.callQuality).toBe('0_unknown');
    expect(record.mediaStreams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
    expect(record.mediaStreams.every((s) => s.endTime === record.endTime && s.startTime <= record.endTime)).toBe(true);
    expect(record.mediaStreams.find((s) => s.type === 'video')!.rx).toMatchObject({ codec: 'VP8', resolution: '640x360', fps: 25 });
    expect(record.rxBandwidth).toBeGreaterThan(0);
    // And no later report carries the Guest.
    const after = left!.at;
    await until(
      () => of('media_statistics').filter((m) => m.at > after + 200).length,
      (n) => n >= 1,
      5_000,
      200,
    );
    expect(
      of('media_statistics')
        .filter((m) => m.at > after + 200)
        .every((m) => m.msg.participants.every((p) => p.participantId !== guest.participant_uuid)),
    ).toBe(true);
  }, 90_000);
});

/**
 * The Prometheus text exposition format (version 0.0.4), as far as a scrape needs: `# HELP` and
 * `# TYPE` comments, then `name{label="value",...} number` per sample. Throws on any other line.
 */
function parseExposition(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
