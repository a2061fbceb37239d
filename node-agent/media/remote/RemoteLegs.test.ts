import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema, serviceConfigSchema, type NodeToServer } from '../../../shared/node-protocol/messages.js';
import { ADMINISTRATOR } from '../../conference/ConferenceControl.js';
import { ConferenceManager, type JoinResult } from '../../conference/ConferenceManager.js';
import { MediaTestClient } from '../../testing/MediaTestClient.js';
import { MediasoupConferenceMedia } from '../mediasoup/MediasoupConferenceMedia.js';
import { MediasoupEngine } from '../mediasoup/MediasoupEngine.js';
import { RemoteLegs } from './RemoteLegs.js';

/**
 * Two nodes' conference managers on their own media engines, their RemoteLegs handing
 * `media_relay` messages to each other directly (the management server's relay and the backplane
 * are tested with real nodes in server/platform/backplane.netns.integration.test.ts). Node 1 signals
 * Lars's call, node 2 handles its media, where Olga called: who hears whom says it works.
 */
const log = pino({ level: 'silent' });
const PORTS: [number, number] = [48600, 48799];
const engines = [new MediasoupEngine(log, { workers: 1 }), new MediasoupEngine(log, { workers: 1 })] as const;
const HEARD_DB = -40;
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
afterAll(() => {
  for (const e of engines) e.close();
});

const snapshot = (id: number) =>
  nodeConfigSnapshotSchema.parse({
    version: 'v',
    generatedAt: new Date().toISOString(),
    node: { id, name: `node-${id}`, systemLocation: 'here' },
    services: [
      serviceConfigSchema.parse({
        id: 1,
        name: 'Room',
        serviceType: 'conference',
        pin: '',
        guestPin: '',
        allowGuests: false,
        participantLimit: null,
        aliases: ['room'],
      }),
    ],
  });

function node(id: 1 | 2) {
  const manager = new ConferenceManager(
    (_s, setup) => new MediasoupConferenceMedia(engines[id - 1]!, { announcedAddress: '127.0.0.1', portRange: PORTS, mode: setup.mode }, log),
    `node-${id}`,
    log,
  );
  manager.applyConfig(snapshot(id));
  open.push({ close: () => manager.close() });
  return manager;
}
const joined = (r: JoinResult) => {
  if (r.kind !== 'joined') throw new Error(r.kind);
  return r;
};

describe('a call whose media is on another node than its signalling (RemoteLegs)', () => {
  it(
    'is answered by the media node, heard and hearing there, muted from its signalling node, and ended there when its signalling node is gone',
    { timeout: 60_000 },
    async () => {
      const managers = [node(1), node(2)] as const;
      const legs: RemoteLegs[] = [];
      // Each side's messages reach the other after a turn of the event loop, as over a network.
      const wire = (from: number, to: () => RemoteLegs) => (msg: NodeToServer) => {
        if (msg.type === 'media_relay') setImmediate(() => to().handle(from, msg.message));
      };
      legs.push(new RemoteLegs(managers[0], { send: wire(1, () => legs[1]!), log, selfId: () => 1 }));
      legs.push(new RemoteLegs(managers[1], { send: wire(2, () => legs[0]!), log, selfId: () => 2 }));
      open.push({ close: () => legs.forEach((l) => l.closeAll()) });

      const tones = { Olga: 760, Lars: 1_420 } as const;
      // Olga calls node 2 directly.
      const o = joined(managers[1].join({ alias: 'room', displayName: 'Olga', pin: undefined, protocol: 'api', remoteAddress: '127.0.0.1' }));
      const olga = new MediaTestClient('Olga', PORTS, { toneHz: tones.Olga });
      open.push(olga);
      await olga.join(o.conference.media, o.participant.id);
      // Lars calls node 1; his call's media is allocated to node 2.
      const l = joined(managers[0].join({ alias: 'room', displayName: 'Lars', pin: undefined, protocol: 'api', remoteAddress: '127.0.0.1' }));
      const lars = new MediaTestClient('Lars', PORTS, { toneHz: tones.Lars });
      open.push(lars);
      const leg = legs[0]!.create(l.conference, l.participant, { id: 2, name: 'node-2' }, 'hd');
      l.participant.leg = leg;
      await lars.join({ createLeg: () => leg }, l.participant.id);
      expect(o.conference.hostedMedia).toEqual([l.participant.id]);
      expect(legs[1]!.hostedLegs).toMatchObject([{ participantId: l.participant.id, conference: 'Room', fromNode: 1 }]);
      olga.startSending(20, ['audio']);
      lars.startSending(20, ['audio']);
      await lars.waitFor("Olga's tone at Lars", () => lars.toneLevelDb(tones.Olga) > HEARD_DB, 20_000);
      await olga.waitFor("Lars's tone at Olga", () => olga.toneLevelDb(tones.Lars) > HEARD_DB, 20_000);
      await lars.waitFor("Lars's own tone absent", () => lars.toneLevelDb(tones.Lars) < lars.toneLevelDb(tones.Olga) - 20, 10_000);

      // Muted on node 1 (his signalling node): node 2 stops sending him to Olga.
      managers[0].control.participant(l.conference, ADMINISTRATOR, l.participant.id, 'mute');
      await olga.waitFor("Lars's tone gone", () => olga.toneLevelDb(tones.Lars) < HEARD_DB - 20, 10_000);

      // Node 2 stops hearing of node 1: a moment's absence changes nothing, 15 s of it ends his media there.
      const t0 = Date.now();
      legs[1]!.nodesLive(new Set([2]), t0);
      legs[1]!.nodesLive(new Set([2]), t0 + 5_000);
      expect(legs[1]!.hostedLegs).toHaveLength(1);
      legs[1]!.nodesLive(new Set([2]), t0 + 16_000);
      expect(legs[1]!.hostedLegs).toHaveLength(0);
      expect(o.conference.hostedMedia).toEqual([]);
      // Node 1 is told: the call ends there too.
      await lars.waitFor('the call ended on node 1', () => leg.closed, 5_000);
      expect(o.conference.isEnded).toBe(false);
    },
  );
});
