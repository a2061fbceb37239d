import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveConference, ServerToNode } from '../../shared/node-protocol/messages.js';
import { BackplaneBroker, type BrokerLinks } from './BackplaneBroker.js';

/** The node links as the broker sees them: who is connected, and every frame sent to each. */
class RecordingLinks implements BrokerLinks {
  readonly connected = new Set<number>();
  /** Nodes linked to another management server of the cluster. */
  readonly elsewhere = new Set<number>();
  readonly sent: { to: number; msg: ServerToNode; via?: 'cluster' }[] = [];
  isConnectedHere(nodeId: number): boolean {
    return this.connected.has(nodeId);
  }
  isLive(nodeId: number): boolean {
    return this.connected.has(nodeId) || this.elsewhere.has(nodeId);
  }
  command(nodeIds: readonly number[], msg: ServerToNode): number {
    let n = 0;
    for (const to of nodeIds) {
      if (this.connected.has(to)) this.sent.push({ to, msg });
      else if (this.elsewhere.has(to)) this.sent.push({ to, msg, via: 'cluster' });
      else continue;
      n++;
    }
    return n;
  }
  of(type: ServerToNode['type']) {
    return this.sent.filter((s) => s.msg.type === type);
  }
}

const nodes = {
  1: { id: 1, name: 'n1', location: 'London' },
  2: { id: 2, name: 'n2', location: 'London' },
  3: { id: 3, name: 'n3', location: 'Oslo' },
} as const;
const conference = (id: string, name: string, participants: string[]): LiveConference => ({
  id,
  name,
  serviceType: 'conference',
  startTime: new Date().toISOString(),
  activeSpeaker: null,
  participants: participants.map((p) => ({
    id: p,
    displayName: p,
    role: 'chair',
    alias: 'room',
    protocol: 'webrtc',
    connectTime: new Date().toISOString(),
    node: '',
    remoteAddress: '10.0.0.1',
  })),
});

let broker: BackplaneBroker | null = null;
afterEach(() => broker?.stop());

function setUp(...ids: (keyof typeof nodes)[]) {
  const links = new RecordingLinks();
  for (const id of ids) links.connected.add(id);
  broker = new BackplaneBroker(links, pino({ level: 'silent' }), 60_000);
  return { links, broker };
}

describe('backplane brokering', () => {
  it('pairs two nodes once both hold participants of one conference: local in one location, one per pair whatever the joins', () => {
    const { links, broker } = setUp(1, 2);
    broker.accept(nodes[1], { type: 'conference_started', conference: conference('c1', 'Room', ['a']) });
    broker.accept(nodes[2], { type: 'conference_started', conference: conference('c2', 'Room', []) });
    expect(broker.list()).toHaveLength(0); // node 2 has nobody yet
    broker.accept(nodes[2], { type: 'participant_joined', conferenceId: 'c2', participant: conference('c2', 'Room', ['b']).participants[0]! });
    broker.accept(nodes[1], { type: 'participant_joined', conferenceId: 'c1', participant: conference('c1', 'Room', ['a2']).participants[0]! });
    expect(broker.list()).toMatchObject([{ conference: 'Room', type: 'local', a: { id: 1 }, b: { id: 2 } }]);
    const opens = links.of('backplane_open');
    expect(opens.map((o) => [o.to, o.msg.type === 'backplane_open' && o.msg.peer.nodeId])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    // A Virtual Reception or a test call on both nodes is each caller's own: never paired.
    for (const [n, type] of [
      [nodes[1], 'two_stage_dialing'],
      [nodes[2], 'two_stage_dialing'],
    ] as const)
      broker.accept(n, { type: 'conference_started', conference: { ...conference(`r${n.id}`, 'Reception', [`r${n.id}`]), serviceType: type } });
    expect(broker.list()).toHaveLength(1);
    // Another conference on only one node pairs nothing.
    broker.accept(nodes[1], { type: 'conference_started', conference: conference('c3', 'Other', ['x']) });
    expect(broker.list()).toHaveLength(1);
    // status/v1: one link each way.
    expect(broker.statusObjects().map((o) => `${String(o.media_node)}→${String(o.remote_media_node)}`)).toEqual(['n1→n2', 'n2→n1']);
  });

  it('a third node in another location makes every pair a backplane, the new ones geographic', () => {
    const { broker } = setUp(1, 2, 3);
    for (const [n, c] of [
      [nodes[1], 'c1'],
      [nodes[2], 'c2'],
      [nodes[3], 'c3'],
    ] as const)
      broker.accept(n, { type: 'status', conferences: [conference(c, 'Room', [`p${c}`])] });
    expect(
      broker
        .list()
        .map((b) => `${b.a.name}-${b.b.name} ${b.type}`)
        .sort(),
    ).toEqual(['n1-n2 local', 'n1-n3 geographic', 'n2-n3 geographic']);
  });

  it("relays an end's transport and streams to the other end only, and ignores a node that is not an end", () => {
    const { links, broker } = setUp(1, 2, 3);
    broker.accept(nodes[1], { type: 'status', conferences: [conference('c1', 'Room', ['a'])] });
    broker.accept(nodes[2], { type: 'status', conferences: [conference('c2', 'Room', ['b'])] });
    const id = broker.list()[0]!.id;
    const transport = { type: 'backplane_transport' as const, backplaneId: id, transport: { ip: '10.0.0.11', port: 40_001 } };
    broker.accept(nodes[1], transport);
    broker.accept(nodes[3], { ...transport, transport: { ip: '10.6.6.6', port: 1 } });
    expect(links.of('backplane_transport')).toEqual([{ to: 2, msg: transport }]);
    const streams = { type: 'backplane_streams' as const, backplaneId: id, participants: [], streams: [] };
    broker.accept(nodes[2], streams);
    expect(links.of('backplane_streams')).toEqual([{ to: 1, msg: streams }]);
  });

  it('closes the backplane when one side has nobody left, its conference ends, or its node goes', () => {
    const { links, broker } = setUp(1, 2);
    const twoSides = () => {
      broker.accept(nodes[1], { type: 'status', conferences: [conference('c1', 'Room', ['a'])] });
      broker.accept(nodes[2], { type: 'status', conferences: [conference('c2', 'Room', ['b'])] });
      expect(broker.list()).toHaveLength(1);
      return broker.list()[0]!.id;
    };
    const id = twoSides();
    broker.accept(nodes[2], { type: 'participant_left', conferenceId: 'c2', participantId: 'b' });
    expect(broker.list()).toHaveLength(0);
    expect(links.of('backplane_close').map((c) => [c.to, c.msg])).toEqual([
      [1, { type: 'backplane_close', backplaneId: id }],
      [2, { type: 'backplane_close', backplaneId: id }],
    ]);
    twoSides();
    broker.accept(nodes[1], { type: 'conference_ended', conferenceId: 'c1' });
    expect(broker.list()).toHaveLength(0);
    twoSides();
    links.connected.delete(2);
    broker.nodeGone(2);
    expect(broker.list()).toHaveLength(0);
  });

  it('a backplane a node could not open is closed and not tried again at once', () => {
    const { links, broker } = setUp(1, 2);
    broker.accept(nodes[1], { type: 'status', conferences: [conference('c1', 'Room', ['a'])] });
    broker.accept(nodes[2], { type: 'status', conferences: [conference('c2', 'Room', ['b'])] });
    const id = broker.list()[0]!.id;
    // Only an end may close it.
    broker.accept(nodes[3], { type: 'backplane_closed', backplaneId: id, reason: 'no' });
    expect(broker.list()).toHaveLength(1);
    broker.accept(nodes[2], { type: 'backplane_closed', backplaneId: id, reason: 'Conference not live on this node' });
    expect(broker.list()).toHaveLength(0);
    broker.accept(nodes[1], { type: 'participant_joined', conferenceId: 'c1', participant: conference('c1', 'Room', ['a3']).participants[0]! });
    expect(broker.list()).toHaveLength(0);
    expect(links.of('backplane_open')).toHaveLength(2);
  });

  it('two management servers, a node linked to each: the server of the lower-id node brokers the one backplane, through the cluster for the other end', () => {
    const one = new RecordingLinks();
    one.connected.add(1);
    one.elsewhere.add(2);
    const two = new RecordingLinks();
    two.connected.add(2);
    two.elsewhere.add(1);
    const b1 = new BackplaneBroker(one, pino({ level: 'silent' }), 60_000);
    const b2 = new BackplaneBroker(two, pino({ level: 'silent' }), 60_000);
    try {
      // Every server hears every node: its own, and the others' relayed.
      for (const b of [b1, b2]) {
        b.accept(nodes[1], { type: 'conference_started', conference: conference('c1', 'Room', ['a']) });
        b.accept(nodes[2], { type: 'conference_started', conference: conference('c2', 'Room', ['b']) });
      }
      expect(b1.list()).toHaveLength(1);
      expect(b2.list()).toHaveLength(0);
      const opened = one.of('backplane_open');
      expect(opened.map((s) => [s.to, s.via])).toEqual([
        [1, undefined],
        [2, 'cluster'],
      ]);
      expect(two.sent).toEqual([]);
      // Node 2's transport reaches server 2 (unknown there) and, relayed, server 1, which sends it to node 1.
      const id = b1.list()[0]!.id;
      const transport = { type: 'backplane_transport' as const, backplaneId: id, transport: { ip: '10.0.0.2', port: 40_000 } };
      b2.accept(nodes[2], transport);
      b1.accept(nodes[2], transport);
      expect(one.of('backplane_transport').map((s) => s.to)).toEqual([1]);
      expect(two.of('backplane_transport')).toEqual([]);
      // Node 2 leaves the cluster: server 1 closes the backplane, to node 1 only.
      one.elsewhere.delete(2);
      b1.nodeGone(2);
      expect(b1.list()).toHaveLength(0);
      expect(one.of('backplane_close').map((s) => s.to)).toEqual([1]);
    } finally {
      b1.stop();
      b2.stop();
    }
  });
});
