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
});
