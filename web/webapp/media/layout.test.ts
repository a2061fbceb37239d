import { describe, expect, it } from 'vitest';
import { activeSpeaker, computeLayout, gridPlacement, parseLayout, speakerOrder, updateRecency, videoPlan, type LayoutKind } from './layout.js';
import { cameraEncodings } from './encodings.js';

const stage = (...uuids: string[]) => uuids.map((participant_uuid, stage_index) => ({ participant_uuid, stage_index, vad: 0 }));
const people = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}`);
const layout = (l: LayoutKind, participants: string[], st = stage(), self = 'me', presentation = false) =>
  computeLayout({ layout: l, participants, stage: st, selfUuid: self, presentation });
const ids = (slots: { uuid: string }[]) => slots.map((s) => s.uuid);

describe('parseLayout', () => {
  it('takes short forms, Pexip names and auto', () => {
    expect(parseLayout('1:7')).toBe('1:7');
    expect(parseLayout(' 2:21 ')).toBe('2:21');
    expect(parseLayout('four_mains_zero_pips')).toBe('4:0');
    expect(parseLayout('one_main_twentyone_pips')).toBe('1:21');
    expect(parseLayout('auto')).toBe('auto');
  });
  it('refuses anything else', () => {
    for (const v of ['1:8', '', 'constructor', '__proto__', 7, null, undefined, {}]) expect(parseLayout(v)).toBeNull();
  });
});

describe('activeSpeaker and speakerOrder', () => {
  it('prefers whoever is speaking now, else the most recent speaker', () => {
    expect(activeSpeaker([])).toBeNull();
    expect(activeSpeaker(stage('a', 'b', 'c'))).toBe('a');
    expect(
      activeSpeaker([
        { participant_uuid: 'a', stage_index: 0, vad: 0 },
        { participant_uuid: 'b', stage_index: 1, vad: 100 },
      ]),
    ).toBe('b');
    // Stage order comes from stage_index, not array order.
    expect(
      activeSpeaker([
        { participant_uuid: 'z', stage_index: 3, vad: 0 },
        { participant_uuid: 'y', stage_index: 0, vad: 0 },
      ]),
    ).toBe('y');
  });
  it('orders others by recency, then the rest in joining order, leaving the viewer out', () => {
    expect(speakerOrder(['a', 'b', 'c', 'd'], stage('c', 'me', 'a', 'ghost'), 'me')).toEqual(['c', 'a', 'b', 'd']);
  });
  it("puts the speakers this client saw before the node's slower dominant-speaker order", () => {
    expect(speakerOrder(['a', 'b', 'c', 'd'], stage('c', 'a'), 'me', ['d', 'me', 'b'])).toEqual(['d', 'b', 'c', 'a']);
    // Nobody speaking now: the last one seen speaking is the active speaker, not the stage's first.
    expect(activeSpeaker(stage('a', 'b'), ['b'])).toBe('b');
    expect(activeSpeaker(stage('a', 'b'), ['gone'])).toBe('a');
  });
  it('remembers who spoke, most recent first', () => {
    const speaking = (u: string, ...rest: string[]) => [
      { participant_uuid: u, stage_index: 1, vad: 100 },
      ...rest.map((r, i) => ({ participant_uuid: r, stage_index: i + 2, vad: 0 })),
    ];
    let recent: string[] = [];
    recent = updateRecency(recent, stage('a', 'b'));
    expect(recent).toEqual([]);
    recent = updateRecency(recent, speaking('b', 'a'));
    recent = updateRecency(recent, speaking('c', 'a', 'b'));
    expect(recent).toEqual(['c', 'b']);
    const same = updateRecency(recent, speaking('c'));
    expect(same).toBe(recent);
    expect(updateRecency(recent, speaking('b'))).toEqual(['b', 'c']);
  });
  it('a speaker the node has not yet made dominant takes the main tile at once', () => {
    const st = [
      { participant_uuid: 'p1', stage_index: 0, vad: 0 },
      { participant_uuid: 'p2', stage_index: 1, vad: 100 },
    ];
    const r = computeLayout({ layout: '1:7', participants: people(3), stage: st, selfUuid: 'me', recent: updateRecency([], st) });
    expect(ids(r.mains)).toEqual(['p2']);
    expect(r.activeSpeaker).toBe('p2');
  });
});

describe('1+7 (default)', () => {
  it('puts the current speaker in the main tile and the others as thumbnails by recency', () => {
    const r = layout('1:7', people(4), stage('p3', 'p1'));
    expect(ids(r.mains)).toEqual(['p3']);
    expect(ids(r.thumbs)).toEqual(['p1', 'p2', 'p4']);
    expect(r.overflow).toBe(0);
    expect(r.hidden).toEqual([]);
    expect(r.mains[0]).toMatchObject({ spatialLayer: 2 });
    expect(r.thumbs.every((t) => t.spatialLayer === 0 && t.priority < r.mains[0]!.priority)).toBe(true);
  });
  it('the speaker sees the previous speaker in the main tile', () => {
    const r = layout('1:7', ['a', 'b', 'c'], stage('me', 'b', 'a'), 'me');
    expect(ids(r.mains)).toEqual(['b']);
    expect(r.activeSpeaker).toBe('me');
  });
  it('fits exactly 7 thumbnails; with more, the last one becomes "+N" and the rest are paused', () => {
    expect(layout('1:7', people(8)).thumbs).toHaveLength(7);
    const r = layout('1:7', people(12), stage('p12', 'p11'));
    expect(ids(r.mains)).toEqual(['p12']);
    expect(ids(r.thumbs)).toEqual(['p11', 'p1', 'p2', 'p3', 'p4', 'p5']);
    expect(r.overflow).toBe(5);
    expect(r.overflowTile).toBe(true);
    expect(r.hidden).toEqual(['p6', 'p7', 'p8', 'p9', 'p10']);
  });
  it('a participant who starts speaking comes into view', () => {
    const before = layout('1:7', people(12));
    expect(before.hidden).toContain('p10');
    const after = layout('1:7', people(12), [{ participant_uuid: 'p10', stage_index: 0, vad: 100 }, ...stage('p1').map((e) => ({ ...e, stage_index: 1 }))]);
    expect(ids(after.mains)).toEqual(['p10']);
    expect(after.hidden).not.toContain('p10');
    expect(after.speaking).toEqual(['p10']);
  });
});

describe('other layouts', () => {
  it('1+0 shows one speaker and counts the others', () => {
    const r = layout('1:0', people(3), stage('p2'));
    expect(ids(r.mains)).toEqual(['p2']);
    expect(r.thumbs).toEqual([]);
    expect(r).toMatchObject({ overflow: 2, overflowTile: false, hidden: ['p1', 'p3'] });
  });
  it('4+0 shows the four most recent speakers', () => {
    const r = layout('4:0', people(6), stage('p6', 'p5', 'p4', 'p3', 'p2'));
    expect(ids(r.mains)).toEqual(['p6', 'p5', 'p4', 'p3']);
    expect(r).toMatchObject({ overflow: 2, overflowTile: false, hidden: ['p2', 'p1'] });
    expect(r.mains.every((m) => m.spatialLayer === 1)).toBe(true);
    expect(layout('4:0', people(1)).mains[0]).toMatchObject({ spatialLayer: 2 });
  });
  it('1+21 has 21 thumbnails and a smaller main', () => {
    const r = layout('1:21', people(30));
    expect(r.mains).toHaveLength(1);
    expect(r.mains[0]!.spatialLayer).toBe(1);
    expect(r.thumbs).toHaveLength(20);
    expect(r.overflow).toBe(9);
  });
  it('2+21 puts the two most recent speakers side by side', () => {
    const r = layout('2:21', people(5), stage('p4', 'p2'));
    expect(ids(r.mains)).toEqual(['p4', 'p2']);
    expect(ids(r.thumbs)).toEqual(['p1', 'p3', 'p5']);
  });
  it('the gallery shows everyone up to 16, then "+N"', () => {
    expect(layout('auto', people(4)).mains.map((m) => m.spatialLayer)).toEqual([1, 1, 1, 1]);
    expect(layout('auto', people(1)).mains[0]!.spatialLayer).toBe(2);
    const r = layout('auto', people(20));
    expect(r.mains).toHaveLength(15);
    expect(r.overflow).toBe(5);
  });
  it('with a presentation everyone moves beside it', () => {
    const r = layout('1:7', people(10), stage('p9'), 'me', true);
    expect(r.mains).toEqual([]);
    expect(ids(r.thumbs)[0]).toBe('p9');
    expect(r.thumbs).toHaveLength(7);
    expect(r.overflow).toBe(3);
    const single = layout('1:0', people(3), stage('p3'), 'me', true);
    expect(ids(single.thumbs)).toEqual(['p3']);
    expect(single).toMatchObject({ overflow: 2, overflowTile: false });
  });
});

describe('Virtual Auditorium Host view', () => {
  it('lists Hosts first by recency, then Guests; a lone Host sees the most recent Guest speaker', () => {
    const r = computeLayout({
      layout: '1:7',
      participants: ['h1', 'g1', 'g2', 'h2'],
      stage: stage('g2', 'h2', 'g1', 'h1'),
      selfUuid: 'me',
      hostsFirst: new Set(['me', 'h1', 'h2']),
    });
    expect(ids(r.mains)).toEqual(['h2']);
    expect(ids(r.thumbs)).toEqual(['h1', 'g2', 'g1']);
    const alone = computeLayout({ layout: '1:7', participants: ['g1', 'g2'], stage: stage('g2', 'g1'), selfUuid: 'me', hostsFirst: new Set(['me']) });
    expect(ids(alone.mains)).toEqual(['g2']);
  });
});

describe('videoPlan', () => {
  it('asks shown tiles for their layer and pauses the hidden', () => {
    const plan = videoPlan(layout('1:7', people(10), stage('p1')));
    expect(plan.get('p1')).toEqual({ paused: false, spatialLayer: 2, priority: 220 });
    expect(plan.get('p2')).toEqual({ paused: false, spatialLayer: 0, priority: 60 });
    expect(plan.get('p10')).toEqual({ paused: true });
    expect(plan.size).toBe(10);
  });
});

describe('gridPlacement', () => {
  it('places 1+7 with the main across the top and thumbnails in a row', () => {
    const g = gridPlacement(layout('1:7', people(4)), false);
    expect(g.columns).toBe(7);
    expect(g.tiles[0]).toEqual({ uuid: 'p1', column: '1 / -1', row: '1' });
    // One row of three thumbnails, centred in seven columns.
    expect(g.tiles.slice(1).map((t) => [t.column, t.row])).toEqual([
      ['3', '2'],
      ['4', '2'],
      ['5', '2'],
    ]);
    expect(
      gridPlacement(layout('1:7', people(8)), false)
        .tiles.slice(1)
        .map((t) => t.column),
    ).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(gridPlacement(layout('2:21', people(3)), false).tiles.map((t) => t.column)).toEqual(['1 / span 7', '8 / span 7', '7 / span 2']);
  });
  it('adds the "+N" tile and wraps thumbnails four to a row on a phone', () => {
    const g = gridPlacement(layout('1:7', people(12)), true);
    expect(g.columns).toBe(4);
    expect(g.tiles.filter((t) => t.uuid === null)).toHaveLength(1);
    expect(g.rows).toBe('minmax(0, 1fr) repeat(2, auto)');
  });
  it('arranges 4+0 with three as one on top and two below', () => {
    const g = gridPlacement(layout('4:0', people(3)), false);
    expect(g.tiles.map((t) => t.row)).toEqual(['1', '2', '2']);
  });
});

describe('cameraEncodings', () => {
  it('simulcasts three layers from 640×360 up, else one', () => {
    expect(cameraEncodings({ width: 640, height: 360 }).map((e) => e.scaleResolutionDownBy)).toEqual([4, 2, 1]);
    expect(cameraEncodings({ width: 360, height: 640 })).toHaveLength(3);
    expect(cameraEncodings({ width: 320, height: 240 })).toHaveLength(1);
    expect(cameraEncodings({})).toHaveLength(1);
  });
});

describe('spotlight', () => {
  it('spotlit participants lead, earliest first, whoever speaks; the viewer and the absent are left out', () => {
    const speaking = [{ participant_uuid: 'p3', stage_index: 0, vad: 100 }];
    const r = computeLayout({ layout: '1:7', participants: people(4), stage: speaking, selfUuid: 'me', recent: ['p3'], spotlight: ['p4', 'gone', 'me', 'p2'] });
    expect(ids(r.mains)).toEqual(['p4']);
    expect(ids(r.thumbs)).toEqual(['p2', 'p3', 'p1']);
    expect(r.activeSpeaker).toBe('p3');
    // Without a spotlight the speaker leads.
    expect(ids(computeLayout({ layout: '1:7', participants: people(4), stage: speaking, selfUuid: 'me', recent: ['p3'] }).mains)).toEqual(['p3']);
  });
});
