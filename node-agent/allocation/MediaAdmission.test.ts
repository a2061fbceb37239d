import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ParticipantMedia } from '../../shared/node-protocol/mediaStatus.js';
import type { PlatformConfig } from '../../shared/node-protocol/messages.js';
import { NodeAlarms } from '../alarms/NodeAlarms.js';
import { MediaAdmission } from './MediaAdmission.js';

const silent = pino({ level: 'silent' });
const A = 1;
const B = 2;
// Location A (nodes 11 and 12) overflows to B (node 21); each node takes one HD call (12 tokens).
const platform: PlatformConfig = {
  locations: [
    { id: A, name: 'A', transcodingLocation: null, primaryOverflow: B, secondaryOverflow: null },
    { id: B, name: 'B', transcodingLocation: null, primaryOverflow: null, secondaryOverflow: null },
  ],
  nodes: [
    { id: 11, name: 'a1', location: A, role: 'transcoding', maintenance: false, capacityHdCalls: 1 },
    { id: 12, name: 'a2', location: A, role: 'transcoding', maintenance: false, capacityHdCalls: 1 },
    { id: 21, name: 'b1', location: B, role: 'transcoding', maintenance: false, capacityHdCalls: 1 },
  ],
};
const video = (participantId: string, resolution = '1280x720'): ParticipantMedia => ({
  conferenceId: 'c',
  participantId,
  callQuality: '0_unknown',
  streams: [
    { id: 'a', type: 'audio', startTime: 't', rx: { bitrate: 32, packets: 1, packetsLost: 0, packetLoss: 0, windowedPacketLoss: 0 } },
    { id: 'v', type: 'video', startTime: 't', rx: { bitrate: 900, packets: 1, packetsLost: 0, packetLoss: 0, windowedPacketLoss: 0, resolution } },
  ],
  qualityWindows: [],
  rxBandwidth: 0,
  txBandwidth: 0,
});

function node(opts: { linked?: boolean; cores?: number; configure?: boolean } = {}) {
  const media: ParticipantMedia[] = [];
  const alarms = new NodeAlarms();
  let t = 0;
  const admission = new MediaAdmission({
    participants: () => media,
    linked: () => opts.linked ?? true,
    maintenanceMode: () => false,
    alarms,
    log: silent,
    cores: opts.cores ?? 1,
    now: () => t,
  });
  if (opts.configure ?? true) admission.configure(11, platform);
  return { admission, media, alarms, advance: (ms: number) => (t += ms) };
}
const call = { conference: 'Room', call: 'hd' as const, hostsHere: true };

describe('media admission at a call start (guide: handling of media and signaling)', () => {
  it('counts a call from its start (held) and by its media, whichever is more; frees it when the participant leaves', () => {
    const { admission, media } = node();
    expect(admission.maxMediaTokens).toBe(12);
    expect(admission.admit({ ...call, call: 'audio', participantId: 'p1' })).toEqual({ ok: true });
    expect(admission.tokensUsed).toBe(1);
    // Its media turned out to be HD video: 12.
    media.push(video('p1'));
    expect(admission.tokensUsed).toBe(12);
    // A join without a call is checked, not held.
    expect(admission.admit({ ...call, call: 'audio' })).toEqual({ ok: false, reason: 'Resource unavailable' });
    media.length = 0;
    admission.release('p1');
    expect(admission.tokensUsed).toBe(0);
    expect(admission.admit(call)).toEqual({ ok: true });
    expect(admission.tokensUsed).toBe(0);
  });

  it('refuses when nothing fits, raises "Call capacity limit reached" and lowers it once a call fits again', () => {
    const { admission, alarms } = node();
    admission.setLoads([
      { id: 11, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: [] },
      { id: 12, mediaTokensUsed: 12, maxMediaTokens: 12, conferences: ['Room'] },
      { id: 21, mediaTokensUsed: 12, maxMediaTokens: 12, conferences: ['Room'] },
    ]);
    expect(admission.admit({ ...call, participantId: 'p1' }).ok).toBe(true);
    expect(alarms.list()).toEqual([]);
    expect(admission.admit({ ...call, participantId: 'p2' })).toEqual({ ok: false, reason: 'Resource unavailable' });
    expect(alarms.list()).toEqual([{ alarm: 'capacity_exhausted', instance: 'a1', details: 'out of transcoding resource' }]);
    admission.release('p2'); // never held: nothing changes
    expect(alarms.list()).toHaveLength(1);
    admission.release('p1');
    expect(alarms.list()).toEqual([]);
  });

  it('keeps a call whose media the guide places on another node here while this node has room, and refuses it when it has none', () => {
    const { admission } = node();
    // a2 already holds the conference with room: the guide keeps the conference there.
    admission.setLoads([
      { id: 12, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: ['Room'] },
      { id: 21, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: [] },
    ]);
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p1' })).toEqual({ ok: true });
    expect(admission.tokensUsed).toBe(12);
    expect(admission.admit({ ...call, participantId: 'p2' })).toEqual({ ok: false, reason: 'Resource unavailable' });
  });

  it('hands a decision for another node to the backplane hook when one is set', () => {
    const { admission } = node();
    admission.setLoads([{ id: 12, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: ['Room'] }]);
    const asked: string[] = [];
    admission.remoteMedia = ({ mediaNode, conference }) => {
      asked.push(`${conference} on ${mediaNode.name}`);
      return { ok: true };
    };
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p1' })).toEqual({ ok: true });
    expect(asked).toEqual(['Room on a2']);
    // The hook took the media elsewhere: nothing is held here.
    expect(admission.tokensUsed).toBe(0);
  });

  it('without the management server, or with loads gone stale, decides on its own capacity', () => {
    const offline = node({ linked: false });
    offline.admission.setLoads([{ id: 12, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: ['Room'] }]);
    // Link down: a2 is not known to be live, so the call is this node's.
    expect(offline.admission.admit({ ...call, participantId: 'p1' })).toEqual({ ok: true });
    expect(offline.admission.tokensUsed).toBe(12);
    const stale = node();
    stale.admission.setLoads([{ id: 12, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: ['Room'] }]);
    stale.advance(60_000);
    expect(stale.admission.admit({ ...call, participantId: 'p1' })).toEqual({ ok: true });
    expect(stale.admission.tokensUsed).toBe(12);
    // Never configured (a node that has not connected yet): its capacity from its cores (25 HD calls per core).
    const fresh = node({ configure: false, cores: 1 });
    expect(fresh.admission.maxMediaTokens).toBe(300);
    for (let i = 0; i < 25; i++) expect(fresh.admission.admit({ ...call, participantId: `p${i}` }).ok).toBe(true);
    expect(fresh.admission.admit({ ...call, participantId: 'one more' })).toEqual({ ok: false, reason: 'Resource unavailable' });
  });
});
