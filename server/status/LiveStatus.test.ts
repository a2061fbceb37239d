import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { nodeToServerSchema } from '../../shared/node-protocol/messages.js';
import { ManagementServer } from '../ManagementServer.js';

/**
 * The server's live state from node messages as the registry hands them over (validated by the
 * protocol's schema first): older nodes' messages without the newer fields, state updates, media
 * dropped with its participant, and the sample per location.
 */
const participant = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  displayName: id,
  role: 'guest',
  alias: 'meet.live',
  protocol: 'webrtc',
  connectTime: '2026-01-01T10:00:00.000Z',
  node: 'n1',
  remoteAddress: '192.0.2.1',
  ...extra,
});
const media = (participantId: string, loss: number) => ({
  conferenceId: 'c1',
  participantId,
  callQuality: '2_ok',
  streams: [
    {
      id: `${participantId}/a`,
      type: 'audio',
      startTime: '2026-01-01T10:00:00.000Z',
      rx: { codec: 'opus', bitrate: 30, packets: 10, packetsLost: 0, packetLoss: 0, windowedPacketLoss: loss },
    },
  ],
  rxBandwidth: 30,
  txBandwidth: 20,
});

describe.each(TEST_DATABASES.slice(0, 1))('live status from node messages on $name', ({ open }) => {
  let server: ManagementServer;
  const from = (nodeId: number, msg: unknown) => server.status.apply(nodeId, nodeToServerSchema.parse(msg));
  const participantStatus = async (id: string) =>
    (
      await fetch(`${server.url}/api/admin/status/v1/participant/${id}/`, { headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` } })
    ).json() as Promise<Record<string, unknown>>;

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    server.status.stopSampling();
    server.status.liveNodes = () => [{ id: 1, name: 'n1', location: 'Oslo' }];
  });
  afterAll(() => server.stop());

  it('takes an older node’s participant (no state fields) and omits what it did not say; then follows updates', async () => {
    from(1, {
      type: 'conference_started',
      conference: { id: 'c1', name: 'Live room', serviceType: 'conference', startTime: '2026-01-01T10:00:00.000Z', participants: [participant('old')] },
    });
    const old = await participantStatus('old');
    expect(old).toMatchObject({ id: 'old', display_name: 'old', system_location: 'Oslo', media_node: 'n1' });
    for (const absent of ['is_muted', 'is_presenting', 'is_on_hold', 'call_quality', 'rx_bandwidth', 'call_tag']) expect(old).not.toHaveProperty(absent);

    from(1, {
      type: 'participant_joined',
      conferenceId: 'c1',
      participant: participant('new', { isMuted: false, isPresenting: false, isOnHold: true, callTag: 'tag-1' }),
    });
    expect(await participantStatus('new')).toMatchObject({ is_muted: false, is_on_hold: true, service_type: 'waiting_room', call_tag: 'tag-1' });
    from(1, { type: 'participant_updated', conferenceId: 'c1', participant: participant('new', { isMuted: true, isPresenting: true, isOnHold: false }) });
    expect(await participantStatus('new')).toMatchObject({ is_muted: true, is_presenting: true, is_on_hold: false, service_type: 'conference' });
    // An update for someone the node never announced changes nothing.
    from(1, { type: 'participant_updated', conferenceId: 'c1', participant: participant('ghost') });
    expect(server.status.participants().map((p) => p.id)).toEqual(['old', 'new']);
    from(1, { type: 'conference_updated', conferenceId: 'c1', isLocked: true, guestsMuted: false });
    expect(server.status.conferences()[0]).toMatchObject({ isLocked: true, guestsMuted: false });
  });

  it('keeps media per participant, samples loss per location, and forgets a participant’s media when they leave', () => {
    from(1, { type: 'media_statistics', at: '2026-01-01T10:00:05.000Z', participants: [media('old', 4), media('new', 0)] });
    expect(server.status.media.get('old')?.media.callQuality).toBe('2_ok');
    const point = server.status.sample(server.status.liveNodes(), Date.UTC(2026, 0, 1, 10, 0, 6));
    expect(point).toMatchObject({ conferences: 1, participants: 2, packetLoss: 2 });
    expect(point.locations.Oslo).toMatchObject({ conferences: 1, participants: 2, packetLoss: 2 });
    from(1, { type: 'participant_left', conferenceId: 'c1', participantId: 'old' });
    expect(server.status.media.get('old')).toBeUndefined();
    expect(server.status.media.get('new')).toBeDefined();
    from(1, { type: 'conference_ended', conferenceId: 'c1' });
    expect(server.status.media.size).toBe(0);
  });

  it('adds a graph point as soon as the conference or participant count changes, not at the next tick; other changes wait for it', async () => {
    const nodes = server.status.liveNodes;
    const points: { participants: number; conferences: number }[] = [];
    const onSampled = (p: { participants: number; conferences: number }) => points.push({ participants: p.participants, conferences: p.conferences });
    server.status.on('sampled', onSampled);
    // A tick far away: any point within the test comes from a change.
    server.status.startSampling(nodes, 600_000);
    try {
      const joinedAt = Date.now();
      from(1, {
        type: 'conference_started',
        conference: { id: 'c2', name: 'Change room', serviceType: 'conference', startTime: '2026-01-01T10:00:00.000Z', participants: [] },
      });
      from(1, { type: 'participant_joined', conferenceId: 'c2', participant: participant('p1') });
      from(1, { type: 'participant_joined', conferenceId: 'c2', participant: participant('p2') });
      from(1, { type: 'participant_joined', conferenceId: 'c2', participant: participant('p3') });
      await expect.poll(() => points.at(-1), { timeout: 2_000, interval: 20 }).toEqual({ conferences: 1, participants: 3 });
      // The joins were coalesced into one point, in well under the 2-s tick.
      expect(points).toHaveLength(1);
      expect(Date.now() - joinedAt).toBeLessThan(2_000);
      expect(server.status.series.range('hour').at(-1)).toMatchObject({ conferences: 1, participants: 3 });

      // A mute changes no count: the live views refresh, the graphs wait for the tick.
      let lives = 0;
      const onLive = () => lives++;
      server.status.on('live', onLive);
      from(1, { type: 'participant_updated', conferenceId: 'c2', participant: participant('p1', { isMuted: true }) });
      await expect.poll(() => lives, { timeout: 2_000, interval: 20 }).toBe(1);
      server.status.off('live', onLive);
      expect(points).toHaveLength(1);

      from(1, { type: 'conference_ended', conferenceId: 'c2' });
      await expect.poll(() => points.at(-1), { timeout: 2_000, interval: 20 }).toEqual({ conferences: 0, participants: 0 });
    } finally {
      server.status.stopSampling();
      server.status.off('sampled', onSampled);
    }
  });
});
