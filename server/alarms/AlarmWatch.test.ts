import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import type { NodeLoad } from '../../shared/node-protocol/mediaStatus.js';
import type { NodeToServer } from '../../shared/node-protocol/messages.js';
import { until } from '../../shared/testing/until.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { ConfigBus } from '../platform/ConfigBus.js';
import { AlarmManager } from './AlarmManager.js';
import { AlarmWatch } from './AlarmWatch.js';

type Node = { id: number; name: string; location: string };

/**
 * What the registry tells AlarmWatch, driven by hand: the rules for capacity and configuration sync
 * over a real database (the registry's own part is covered with real node processes elsewhere).
 */
class RegistryEvents {
  presence: ((node: Node, state: 'lost' | 'connected') => void)[] = [];
  pushed: ((node: { id: number; name: string }, version: string) => void)[] = [];
  messages: ((node: Node, msg: NodeToServer) => void)[] = [];
  onNodePresence = (l: (node: Node, state: 'lost' | 'connected') => void) => void this.presence.push(l);
  onConfigPushed = (l: (node: { id: number; name: string }, version: string) => void) => void this.pushed.push(l);
  onNodeMessage = (l: (node: Node, msg: NodeToServer) => void) => void this.messages.push(l);
  isLive = () => true;
  message(node: Node, msg: NodeToServer) {
    for (const l of this.messages) l(node, msg);
  }
  push(node: Node, version: string) {
    for (const l of this.pushed) l(node, version);
  }
  connect(node: Node, state: 'lost' | 'connected') {
    for (const l of this.presence) l(node, state);
  }
}

const load = (mediaLoad: number, maintenanceMode = false): NodeLoad => ({
  at: new Date().toISOString(),
  mediaLoad,
  mediaTokensUsed: 0,
  capacity: { maxFullHdCalls: 1, maxHdCalls: 2, maxSdCalls: 4, maxAudioCalls: 24, maxMediaTokens: 24 },
  cpu: { percent: 1, count: 2, model: 'test' },
  memory: { usedBytes: 1, totalBytes: 2 },
  mediaPorts: { inUse: 0, total: 100 },
  signalingCount: 0,
  calls: { fullHd: 0, hd: 0, sd: 0, audio: 0 },
  maintenanceMode,
});

const watches: AlarmWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});

describe.each(TEST_DATABASES)('AlarmWatch ($name)', ({ open }) => {
  const setup = async () => {
    const { db } = await open();
    const clock = new ManualClock();
    const alarms = new AlarmManager(db, pino({ level: 'silent' }), clock);
    const registry = new RegistryEvents();
    const bus = new ConfigBus();
    const watch = new AlarmWatch(alarms, { db, bus }, registry, pino({ level: 'silent' }), { clock, configSyncMs: 180_000 });
    watches.push(watch);
    await alarms.settled();
    return { alarms, registry, clock, bus };
  };
  const n1 = { id: 1, name: 'node-1', location: 'Oslo' };

  it('"Call capacity limit reached" is the node\'s: raised when it refuses a call for want of capacity, not for a full load alone', async () => {
    const { alarms, registry } = await setup();
    const names = async () => (await alarms.active()).map((a) => [a.name, a.node, a.level, a.details]);
    // Full, another node may still take calls (guide: all nodes able to take the media are at capacity).
    registry.message(n1, { type: 'node_load', load: load(100) });
    await alarms.settled();
    expect(await names()).toEqual([]);
    // The node refused a call (node-agent/allocation/MediaAdmission.ts), and lowers it when a call fits again.
    registry.message(n1, { type: 'alarm', action: 'raise', alarm: 'capacity_exhausted', instance: 'node-1', details: 'out of transcoding resource' });
    await alarms.settled();
    expect(await names()).toEqual([['Call capacity limit reached', 'node-1', 'warning', 'out of transcoding resource']]);
    registry.message(n1, { type: 'alarm', action: 'lower', alarm: 'capacity_exhausted', instance: 'node-1', details: '' });
    await alarms.settled();
    expect(await names()).toEqual([]);
  });

  it('"Configuration not synchronized" when a node has not applied what it was sent within 3 minutes; lowered when it applies the latest', async () => {
    const { alarms, registry, clock } = await setup();
    const active = async () => (await alarms.active('configuration_sync_failure')).map((a) => a.node);
    registry.push(n1, 'v1');
    registry.message(n1, { type: 'config_applied', version: 'v1' });
    await clock.advance(200_000);
    await alarms.settled();
    expect(await active()).toEqual([]);

    registry.push(n1, 'v2');
    await clock.advance(179_000);
    await alarms.settled();
    expect(await active()).toEqual([]);
    registry.push(n1, 'v3'); // a newer version restarts the wait
    await clock.advance(179_000);
    await alarms.settled();
    expect(await active()).toEqual([]);
    await clock.advance(2_000);
    await alarms.settled();
    expect(await active()).toEqual(['node-1']);
    // Applying an older version does not count.
    registry.message(n1, { type: 'config_applied', version: 'v2' });
    await alarms.settled();
    expect(await active()).toEqual(['node-1']);
    registry.message(n1, { type: 'config_applied', version: 'v3' });
    await alarms.settled();
    expect(await active()).toEqual([]);

    // Out of sync, lost, and back holding the latest (nothing sent on connecting): in sync.
    registry.push(n1, 'v4');
    await clock.advance(181_000);
    await alarms.settled();
    expect(await active()).toEqual(['node-1']);
    registry.connect(n1, 'lost');
    registry.connect(n1, 'connected');
    await alarms.settled();
    expect(await active()).toEqual([]);
  });

  it("a node deleted from the configuration has its alarms lowered; the management node's stay", async () => {
    const { alarms, registry, bus } = await setup();
    registry.connect(n1, 'lost');
    await alarms.raise({ alarm: 'syslog_inaccessible', instance: 'tcp://10.0.0.9:514' });
    await alarms.settled();
    expect((await alarms.active()).map((a) => a.node).sort()).toEqual(['', 'node-1']);
    // No conferencing node named node-1 is configured (here, none at all): a configuration change clears it.
    bus.emit('changed', 'worker_vm');
    await until(
      async () => (await alarms.active()).map((a) => a.node),
      (n) => n.length === 1 && n[0] === '',
    );
  });
});
