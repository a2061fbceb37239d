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

function node(opts: { linked?: boolean; cores?: number; configure?: boolean; capacityHdCalls?: number; conferences?: () => number } = {}) {
  const media: ParticipantMedia[] = [];
  const alarms = new NodeAlarms();
  let t = 0;
  const admission = new MediaAdmission({
    participants: () => media,
    ...(opts.conferences ? { conferencesHosted: opts.conferences } : {}),
    linked: () => opts.linked ?? true,
    maintenanceMode: () => false,
    alarms,
    log: silent,
    cores: opts.cores ?? 1,
    now: () => t,
  });
  const self = { ...platform.nodes[0]!, capacityHdCalls: opts.capacityHdCalls ?? 1 };
  if (opts.configure ?? true) admission.configure(11, { ...platform, nodes: [self, ...platform.nodes.slice(1)] });
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
    // Two HD calls' room: the call and the new conference instance's backplane reservation (1 HD).
    let hosted = 0;
    const { admission } = node({ capacityHdCalls: 2, conferences: () => hosted });
    // a2 already holds the conference with room: the guide keeps the conference there.
    admission.setLoads([
      { id: 12, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: ['Room'] },
      { id: 21, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: [] },
    ]);
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p1' })).toEqual({ ok: true });
    hosted = 1;
    expect(admission.tokensUsed).toBe(24);
    expect(admission.admit({ ...call, participantId: 'p2' })).toEqual({ ok: false, reason: 'Resource unavailable' });
  });

  it('reserves a backplane (1 HD) per conference instance in a deployment of several transcoding nodes: a new conference needs room for it, one already here does not', () => {
    let hosted = 1;
    // Three HD calls' room (36 tokens), one conference here with one HD call: 12 + 12 reserved in use.
    const { admission } = node({ capacityHdCalls: 3, conferences: () => hosted });
    admission.setLoads([
      { id: 12, mediaTokensUsed: 36, maxMediaTokens: 36, conferences: [] },
      { id: 21, mediaTokensUsed: 36, maxMediaTokens: 36, conferences: [] },
    ]);
    expect(admission.admit({ ...call, participantId: 'p1' })).toEqual({ ok: true });
    expect(admission.reservedTokens).toBe(12);
    expect(admission.tokensUsed).toBe(24);
    // 12 tokens free: another HD call to the same conference fits; a new conference's first call
    // (12 for the call, 12 for its reservation) does not, and nowhere else has room.
    expect(admission.admit({ ...call, conference: 'Other', hostsHere: false })).toEqual({ ok: false, reason: 'Resource unavailable' });
    expect(admission.admit({ ...call, participantId: 'p2' })).toEqual({ ok: true });
    expect(admission.tokensUsed).toBe(36);
    // The conference ended: its reservation is free again.
    admission.release('p1');
    admission.release('p2');
    hosted = 0;
    expect(admission.tokensUsed).toBe(0);
  });

  it('reserves nothing on a single transcoding node (the guide: no backplane in a single-node deployment)', () => {
    const media: ParticipantMedia[] = [];
    const admission = new MediaAdmission({
      participants: () => media,
      conferencesHosted: () => 1,
      linked: () => true,
      maintenanceMode: () => false,
      alarms: new NodeAlarms(),
      log: silent,
    });
    admission.configure(11, { locations: platform.locations, nodes: [{ ...platform.nodes[0]!, capacityHdCalls: 1 }] });
    expect(admission.reservedTokens).toBe(0);
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p1' })).toEqual({ ok: true });
    expect(admission.tokensUsed).toBe(12);
  });

  it('names the media node a call whose media may go elsewhere is allocated to, and holds nothing here', () => {
    const { admission } = node({ capacityHdCalls: 3 });
    admission.setLoads([{ id: 12, mediaTokensUsed: 0, maxMediaTokens: 12, conferences: ['Room'] }]);
    let linked = true;
    admission.remoteMedia = () => linked;
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p1', remoteMedia: true })).toEqual({ ok: true, mediaNode: { id: 12, name: 'a2' } });
    expect(admission.tokensUsed).toBe(0);
    // A call that cannot (SIP), or a node that cannot now, keeps the media here.
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p2' })).toEqual({ ok: true });
    linked = false;
    expect(admission.admit({ ...call, hostsHere: false, participantId: 'p3', remoteMedia: true })).toEqual({ ok: true });
    expect(admission.tokensUsed).toBe(24);
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
