import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../db/client.js';
import { TEST_DATABASES } from '../../db/testing.js';
import type { NodeToServer } from '../../shared/node-protocol/messages.js';
import { ConfigBus } from '../platform/ConfigBus.js';
import { updateSingleton } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import { LiveStatus } from '../status/LiveStatus.js';
import { HistoryRecorder } from './HistoryRecorder.js';
import { getBackplane, getConference, listBackplanes, listMediaStreams, listParticipants } from './history.service.js';
import { MAX_CONFERENCES, purgeHistory } from './historyRetention.js';
import { conferenceHistory } from '../../db/schema.js';

const NODE = { id: 1, name: 'node-a', location: 'Oslo' };
const conference = { name: 'Room', serviceType: 'conference', tag: 't1', startTime: '2026-01-01T10:00:00.000Z' };

/** Each conference instance its own service name unless told: instances of one name whose times overlap are one conference. */
const room = (conferenceId: string) => ({ ...conference, name: `Room ${conferenceId}` });

function left(conferenceId: string, participantId: string, name: string, endTime: string, conf = room(conferenceId), node = NODE.name): NodeToServer {
  return {
    type: 'participant_left',
    conferenceId,
    participantId,
    conference: conf,
    participant: {
      id: participantId,
      displayName: name,
      role: 'guest',
      alias: 'room',
      protocol: 'webrtc',
      connectTime: '2026-01-01T10:00:05.000Z',
      node,
      remoteAddress: '10.0.0.9',
    },
    record: {
      endTime,
      disconnectReason: 'Call disconnected',
      callQuality: '2_ok',
      qualityWindows: [{ end: '2026-01-01T10:00:25.000Z', quality: '2_ok', packetLoss: 1.5, jitter: 3 }],
      mediaStreams: [
        {
          id: 'a1',
          type: 'audio',
          startTime: '2026-01-01T10:00:06.000Z',
          rx: { codec: 'opus', bitrate: 40, packets: 100, packetsLost: 1, packetLoss: 1, windowedPacketLoss: 0 },
        },
      ],
      rxBandwidth: 40,
      txBandwidth: 60,
    },
  };
}

/**
 * Records a node resends after a reconnection are written once; a participant whose record comes
 * after its conference's end still counts; the purge follows Maximum log age and the guide's limits.
 */
describe.each(TEST_DATABASES)('history records on $name', ({ open }) => {
  let handle: DatabaseHandle;
  let dom: Domain;
  let recorder: HistoryRecorder;
  beforeAll(async () => {
    handle = await open();
    dom = { db: handle.db, bus: new ConfigBus() };
    recorder = new HistoryRecorder(handle.db, new LiveStatus(), pino({ level: 'silent' }));
  });
  afterAll(() => handle?.close());

  it('writes a resent record once, with its streams once', async () => {
    const conf = randomUUID();
    const p = randomUUID();
    recorder.accept(NODE, left(conf, p, 'Ann', '2026-01-01T10:01:05.000Z'));
    recorder.accept(NODE, left(conf, p, 'Ann', '2026-01-01T10:01:05.000Z'));
    recorder.accept(NODE, { type: 'conference_ended', conferenceId: conf, endTime: '2026-01-01T10:02:00.000Z', conference: room(conf) });
    recorder.accept(NODE, { type: 'conference_ended', conferenceId: conf, endTime: '2026-01-01T10:02:00.000Z', conference: room(conf) });
    await recorder.settled();
    const ps = await listParticipants(handle.db, { conference: conf }, { limit: 20, offset: 0 });
    expect(ps.total).toBe(1);
    expect(ps.objects[0]).toMatchObject({
      display_name: 'Ann',
      duration: 60,
      call_quality: '2_ok',
      disconnect_reason: 'Call disconnected',
      system_location: 'Oslo',
      rx_bandwidth: 40,
      tx_bandwidth: 60,
      bandwidth: 100,
    });
    const streams = await listMediaStreams(handle.db, { participant: p }, { limit: 20, offset: 0 });
    expect(streams.total).toBe(1);
    // The stream ended with the call when the node gave no end of its own.
    expect(streams.objects[0]).toMatchObject({ stream_type: 'audio', rx_codec: 'opus', rx_packets_received: 100, end_time: '2026-01-01T10:01:05.000000' });
    expect(streams.objects[0]).not.toHaveProperty('tx_bitrate');
    expect(await getConference(handle.db, conf)).toMatchObject({ participant_count: 1, duration: 120, tag: 't1' });
  });

  it('keeps a closed backplane as its two links, once however often it is reported, found by its filters', async () => {
    const name = `Spread ${randomUUID()}`;
    const bp = {
      id: randomUUID(),
      conference: name,
      a: { id: 1, name: 'node-a', location: 'Oslo' },
      b: { id: 2, name: 'node-b', location: 'London' },
      type: 'geographic' as const,
      startTime: '2026-01-01T10:00:00.000Z',
      linkIds: [randomUUID(), randomUUID()] as [string, string],
    };
    recorder.backplaneClosed(bp, new Date('2026-01-01T10:05:00.000Z'));
    recorder.backplaneClosed(bp, new Date('2026-01-01T10:05:00.000Z'));
    await recorder.settled();
    const all = await listBackplanes(handle.db, { conference: name }, { limit: 20, offset: 0 });
    expect(all.total).toBe(2);
    expect(await getBackplane(handle.db, bp.linkIds[0])).toMatchObject({
      conference: name,
      media_node: 'node-a',
      remote_media_node: 'node-b',
      remote_conference_name: name,
      system_location: 'Oslo',
      type: 'geographic',
      duration: 300,
      end_time: '2026-01-01T10:05:00.000000',
      resource_uri: `/api/admin/history/v1/backplane/${bp.linkIds[0]}/`,
    });
    const fromB = await listBackplanes(handle.db, { conference: name, media_node: 'node-b' }, { limit: 20, offset: 0 });
    expect(fromB.objects.map((b) => b.system_location)).toEqual(['London']);
  });

  it('counts a participant whose record comes after its conference ended', async () => {
    const conf = randomUUID();
    recorder.accept(NODE, left(conf, randomUUID(), 'Early', '2026-01-01T10:01:00.000Z'));
    recorder.accept(NODE, { type: 'conference_ended', conferenceId: conf, endTime: '2026-01-01T10:02:00.000Z', conference: room(conf) });
    recorder.accept(NODE, left(conf, randomUUID(), 'Late', '2026-01-01T10:02:00.000Z'));
    await recorder.settled();
    expect(await getConference(handle.db, conf)).toMatchObject({ participant_count: 2 });
  });

  it('keeps one record for a conference on two nodes, whichever ends first and whenever its participants’ records come; a later meeting of the same room is its own', async () => {
    const NODE_B = { id: 2, name: 'node-b', location: 'Oslo' };
    const [a, b] = [randomUUID(), randomUUID()];
    const name = `Spanning ${a}`;
    const onA = { ...conference, name, startTime: '2026-01-01T10:00:00.000Z' };
    const onB = { ...conference, name, startTime: '2026-01-01T10:00:30.000Z' };
    // Bob leaves node B first (no record of the conference yet), then node A's instance ends with Ann.
    recorder.accept(NODE_B, left(b, randomUUID(), 'Bob', '2026-01-01T10:01:00.000Z', onB, 'node-b'));
    recorder.accept(NODE, left(a, randomUUID(), 'Ann', '2026-01-01T10:02:00.000Z', onA));
    recorder.accept(NODE, { type: 'conference_ended', conferenceId: a, endTime: '2026-01-01T10:02:00.000Z', conference: onA });
    // Cat leaves node B after node A's end: under the same record; then node B's instance ends, twice (a resend).
    recorder.accept(NODE_B, left(b, randomUUID(), 'Cat', '2026-01-01T10:04:00.000Z', onB, 'node-b'));
    recorder.accept(NODE_B, { type: 'conference_ended', conferenceId: b, endTime: '2026-01-01T10:05:00.000Z', conference: onB });
    recorder.accept(NODE_B, { type: 'conference_ended', conferenceId: b, endTime: '2026-01-01T10:05:00.000Z', conference: onB });
    await recorder.settled();
    expect(await getConference(handle.db, b)).toBeNull();
    expect(await getConference(handle.db, a)).toMatchObject({
      name,
      start_time: '2026-01-01T10:00:00.000000',
      end_time: '2026-01-01T10:05:00.000000',
      duration: 300,
      participant_count: 3,
    });
    const ps = await listParticipants(handle.db, { conference: a }, { limit: 20, offset: 0 });
    expect(ps.objects.map((p) => [p.display_name, p.media_node]).sort()).toEqual([
      ['Ann', 'node-a'],
      ['Bob', 'node-b'],
      ['Cat', 'node-b'],
    ]);
    // The same room meeting again later on one node: a record of its own.
    const again = randomUUID();
    const later = { ...onA, startTime: '2026-01-01T11:00:00.000Z' };
    recorder.accept(NODE, { type: 'conference_ended', conferenceId: again, endTime: '2026-01-01T11:10:00.000Z', conference: later });
    await recorder.settled();
    expect(await getConference(handle.db, again)).toMatchObject({ name, duration: 600, participant_count: 0 });
    expect(await getConference(handle.db, a)).toMatchObject({ participant_count: 3, duration: 300 });
  });

  it('keeps nothing it cannot name, and never throws on it', async () => {
    expect(() => recorder.accept(NODE, { type: 'participant_left', conferenceId: 'x', participantId: 'y' })).not.toThrow();
    expect(() => recorder.accept(NODE, { type: 'conference_ended', conferenceId: 'x' })).not.toThrow();
    await recorder.settled();
    expect(await getConference(handle.db, 'x')).toBeNull();
  });

  it('purges records older than Maximum log age (days), and nothing when it is 0', async () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const before = (await listParticipants(handle.db, {}, { limit: 1, offset: 0 })).total;
    expect(before).toBeGreaterThan(0);
    expect(await purgeHistory(dom, now)).toEqual({ conferences: 0, participants: 0 });
    await updateSingleton(dom, 'global', { logs_max_age: 30 });
    const recent = randomUUID();
    recorder.accept(NODE, left(recent, randomUUID(), 'Recent', '2026-02-20T10:00:00.000Z'));
    await recorder.settled();
    const r = await purgeHistory(dom, now);
    expect(r.participants).toBe(before);
    expect(r.conferences).toBeGreaterThanOrEqual(2);
    const left_ = await listParticipants(handle.db, {}, { limit: 20, offset: 0 });
    expect(left_.objects.map((p) => p.display_name)).toEqual(['Recent']);
    expect((await listMediaStreams(handle.db, {}, { limit: 20, offset: 0 })).total).toBe(1);
    await updateSingleton(dom, 'global', { logs_max_age: 0 });
  });

  it('keeps the 10,000 most recent conferences (guide)', async () => {
    const rows = Array.from({ length: MAX_CONFERENCES + 3 }, (_, i) => ({
      id: `c-${i}`,
      name: `Room ${i}`,
      serviceType: 'conference',
      startTime: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
      endTime: new Date(Date.UTC(2026, 0, 1) + i * 60_000 + 30_000),
      duration: 30,
    }));
    for (let i = 0; i < rows.length; i += 2_000) await handle.db.insert(conferenceHistory).values(rows.slice(i, i + 2_000));
    const r = await purgeHistory(dom, new Date('2026-03-01T00:00:00Z'));
    expect(r.conferences).toBe(3);
    expect(await getConference(handle.db, 'c-0')).toBeNull();
    expect(await getConference(handle.db, 'c-3')).not.toBeNull();
  });
});
