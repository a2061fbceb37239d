import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conferencingNode } from '../../db/schema.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { createObject } from '../config/config.service.js';
import { ConfigBus } from './ConfigBus.js';
import { CHECK_IN_MS } from './NodeRegistry.js';

const HOUR = 3_600_000;

describe('periodic check-in (the guide: every ~60 s)', () => {
  // The check-in runs on a clock the test moves; heartbeats and the node's load reports are put out of the way.
  const clock = new ManualClock();
  let p: TestPlatform;
  beforeAll(async () => {
    p = await TestPlatform.start({
      server: { nodeLink: { clock, heartbeat: { intervalMs: HOUR, timeoutMs: 2 * HOUR } } },
      node: { statusIntervalMs: { load: HOUR, media: HOUR } },
    });
  }, 30_000);
  afterAll(() => p?.stop());

  it('brings a node a change its push missed within one interval, and refreshes its "last contacted"', async () => {
    const nodeId = p.server.registry.liveNodes()[0]!.id;
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await p.server.dom.db.update(conferencingNode).set({ lastContacted: longAgo }).where(eq(conferencingNode.id, nodeId));
    // Written as another management server would: this server's bus never hears of it, so nothing is pushed.
    await createObject({ ...p.server.dom, bus: new ConfigBus() }, 'vmr', { name: 'Missed room', aliases: [{ alias: 'missed@example.com' }] });
    const known = () => p.node.manager.directory.lookup('missed@example.com') !== undefined;
    await clock.advance(CHECK_IN_MS - 1_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(known()).toBe(false);

    await clock.advance(1_000);
    await until(known, (k) => k, 5_000);
    const [row] = await p.server.dom.db.select({ at: conferencingNode.lastContacted }).from(conferencingNode).where(eq(conferencingNode.id, nodeId));
    expect(Date.now() - row!.at!.getTime()).toBeLessThan(10_000);
    expect((await p.client('missed@example.com', 'request_token', { body: { display_name: 'Late' } })).status).toBe(200);
  });
});
