import { describe, expect, it } from 'vitest';
import { allocateMedia, MEDIA_TOKENS, type AllocationLocation, type AllocationNode } from './mediaAllocation.js';

// The guide's worked example: USA (proxying) → USA Transcoding, overflow Mexico, then Canada; Brazil unrelated.
const USA = 1;
const USA_T = 2;
const MEXICO = 3;
const CANADA = 4;
const BRAZIL = 5;
const locations: AllocationLocation[] = [
  { id: USA, name: 'USA', transcodingLocation: USA_T, primaryOverflow: MEXICO, secondaryOverflow: CANADA },
  { id: USA_T, name: 'USA Transcoding', transcodingLocation: null, primaryOverflow: MEXICO, secondaryOverflow: CANADA },
  // Mexico's own overflow (Brazil) is never followed from USA: not transitive.
  { id: MEXICO, name: 'Mexico', transcodingLocation: null, primaryOverflow: BRAZIL, secondaryOverflow: null },
  { id: CANADA, name: 'Canada', transcodingLocation: null, primaryOverflow: null, secondaryOverflow: null },
  { id: BRAZIL, name: 'Brazil', transcodingLocation: null, primaryOverflow: null, secondaryOverflow: null },
];

let nextId = 1;
function node(location: number, over: Partial<AllocationNode> = {}): AllocationNode {
  const id = nextId++;
  return {
    id,
    name: `n${id}`,
    location,
    role: 'transcoding',
    maintenance: false,
    live: true,
    maxMediaTokens: 120,
    mediaTokensUsed: 0,
    hostsConference: false,
    ...over,
  };
}
const full = { mediaTokensUsed: 120 };

describe('media allocation (the guide\'s "Handling of media and signaling")', () => {
  it('a call on a transcoding node with "This location" stays there; the least-loaded node takes a new conference', () => {
    const a = node(USA_T, { mediaTokensUsed: 60 });
    const b = node(USA_T, { mediaTokensUsed: 12 });
    expect(allocateMedia({ signallingNode: a.id, call: 'hd', locations, nodes: [a, b] })).toEqual({ ok: true, mediaNode: b.id, candidate: 0 });
  });

  it('a node already hosting the conference with room is kept, even when another is less loaded', () => {
    const a = node(USA_T, { mediaTokensUsed: 100, hostsConference: true });
    const b = node(USA_T);
    expect(allocateMedia({ signallingNode: b.id, call: 'hd', locations, nodes: [a, b] })).toMatchObject({ mediaNode: a.id });
    // Without room for an HD call (8 tokens left), but with room for audio (1 token).
    const c = node(USA_T, { mediaTokensUsed: 112, hostsConference: true });
    expect(allocateMedia({ signallingNode: b.id, call: 'hd', locations, nodes: [c, b] })).toMatchObject({ mediaNode: b.id });
    expect(allocateMedia({ signallingNode: b.id, call: 'audio', locations, nodes: [c, b] })).toMatchObject({ mediaNode: c.id });
  });

  it('a call on a proxying edge node: lineside media on the least-loaded proxy of its location, transcoding in its Transcoding location', () => {
    const p1 = node(USA, { role: 'proxying', mediaTokensUsed: 50 });
    const p2 = node(USA, { role: 'proxying', mediaTokensUsed: 10 });
    const t = node(USA_T);
    expect(allocateMedia({ signallingNode: p1.id, call: 'hd', locations, nodes: [p1, p2, t] })).toEqual({
      ok: true,
      mediaNode: t.id,
      candidate: 0,
      proxyNode: p2.id,
    });
    // Proxies full: refused, with no overflow for proxying.
    const q = node(USA, { role: 'proxying', ...full });
    expect(allocateMedia({ signallingNode: q.id, call: 'hd', locations, nodes: [q, t] })).toEqual({
      ok: false,
      reason: 'Resource unavailable',
      log: 'out of proxying resource',
    });
  });

  it("overflows to the primary, then the secondary overflow location, never to an overflow location's own overflow", () => {
    const p = node(USA, { role: 'proxying' });
    const usa = node(USA_T, full);
    const mexico = node(MEXICO);
    const canada = node(CANADA);
    const brazil = node(BRAZIL);
    expect(allocateMedia({ signallingNode: p.id, call: 'hd', locations, nodes: [p, usa, mexico, canada, brazil] })).toMatchObject({
      mediaNode: mexico.id,
      candidate: 1,
    });
    const mexicoFull = { ...mexico, ...full };
    // Greta in the USA when the USA and Mexico are full: Canada; Brazil is irrelevant.
    expect(allocateMedia({ signallingNode: p.id, call: 'hd', locations, nodes: [p, usa, mexicoFull, canada, brazil] })).toMatchObject({
      mediaNode: canada.id,
      candidate: 2,
    });
    expect(allocateMedia({ signallingNode: p.id, call: 'hd', locations, nodes: [p, usa, mexicoFull, { ...canada, ...full }, brazil] })).toEqual({
      ok: false,
      reason: 'Resource unavailable',
      log: 'out of transcoding resource',
    });
  });

  it('at most 3 transcoding nodes per location per conference: a 4th node is not brought in, overflow is used instead', () => {
    const hosting = [1, 2, 3].map(() => node(USA_T, { hostsConference: true, ...full }));
    const idle = node(USA_T);
    const mexico = node(MEXICO);
    expect(allocateMedia({ signallingNode: idle.id, call: 'sd', locations, nodes: [...hosting, idle, mexico] })).toMatchObject({
      mediaNode: mexico.id,
      candidate: 1,
    });
    // With only two in the conference, the idle node is brought in.
    expect(allocateMedia({ signallingNode: idle.id, call: 'sd', locations, nodes: [...hosting.slice(1), idle, mexico] })).toMatchObject({ mediaNode: idle.id });
  });

  it('nodes in maintenance mode, not responding, or proxying never take transcoding', () => {
    const sig = node(USA_T, { maintenance: true });
    const down = node(USA_T, { live: false });
    const proxy = node(USA_T, { role: 'proxying' });
    const ok = node(USA_T, { mediaTokensUsed: 100 });
    expect(allocateMedia({ signallingNode: sig.id, call: 'audio', locations, nodes: [sig, down, proxy, ok] })).toMatchObject({ mediaNode: ok.id });
    expect(allocateMedia({ signallingNode: sig.id, call: 'audio', locations, nodes: [sig, down, proxy] })).toMatchObject({ ok: false });
  });

  it('a node new to the conference needs room for the call and the backplane reservation (1 HD); a node already in it only for the call; one node alone reserves nothing', () => {
    // 20 tokens free each: an HD call (12) fits, the call and a reservation (24) do not.
    const hosting = node(USA_T, { mediaTokensUsed: 100, hostsConference: true });
    const idle = node(USA_T, { mediaTokensUsed: 100 });
    expect(allocateMedia({ signallingNode: idle.id, call: 'hd', locations, nodes: [hosting, idle] })).toMatchObject({ mediaNode: hosting.id });
    expect(allocateMedia({ signallingNode: idle.id, call: 'hd', locations, nodes: [{ ...hosting, hostsConference: false }, idle] })).toMatchObject({
      ok: false,
    });
    // Audio (1) and its reservation (12) fit in 20.
    expect(allocateMedia({ signallingNode: idle.id, call: 'audio', locations, nodes: [{ ...hosting, hostsConference: false }, idle] })).toMatchObject({
      ok: true,
    });
    expect(allocateMedia({ signallingNode: idle.id, call: 'hd', locations, nodes: [idle] })).toMatchObject({ ok: true, mediaNode: idle.id });
  });

  it("counts the guide's units: Full HD 2 HD, SD half, audio a twelfth", () => {
    expect(MEDIA_TOKENS.fullhd / MEDIA_TOKENS.hd).toBe(2);
    expect(MEDIA_TOKENS.sd / MEDIA_TOKENS.hd).toBe(0.5);
    expect(MEDIA_TOKENS.audio / MEDIA_TOKENS.hd).toBeCloseTo(1 / 12);
    const n = node(USA_T, { mediaTokensUsed: 100 }); // 20 tokens free: an HD call fits, a Full HD call does not
    expect(allocateMedia({ signallingNode: n.id, call: 'hd', locations, nodes: [n] }).ok).toBe(true);
    expect(allocateMedia({ signallingNode: n.id, call: 'fullhd', locations, nodes: [n] }).ok).toBe(false);
  });
});
