import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { runSipp } from '../testing/sipp.js';

/**
 * SIP timers on the node's clock, driven here by hand: Global Settings > Service Configuration >
 * PIN entry timeout (a caller that keys no PIN is disconnected, our BYE), and RFC 4028 session
 * timers (a call that asked for them and does not refresh is ended).
 */
describe('SIP timers: the PIN entry timeout (global setting) and session timers', () => {
  const clock = new ManualClock();
  let platform: TestPlatform;
  let port: number;

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0, conferenceClock: clock } });
    await platform.rest('POST', 'conference/', { name: 'Timed room', aliases: [{ alias: 'meet.timed' }], pin: '2468' });
    await platform.rest('PATCH', 'global/1/', { pin_entry_timeout: 45 });
    await until(
      () => platform.node.manager.directory.lookup('meet.timed') !== undefined && platform.node.manager.settings.pinEntryTimeout === 45,
      (ok) => ok,
      15_000,
    );
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(() => platform?.stop());

  const sipp = (scenario: string, service: string) => {
    const state = { done: false };
    const exit = runSipp(scenario, port, service, { timeoutS: 30 });
    void exit.then(() => (state.done = true));
    return { exit, state };
  };

  it('session timers: a call that asked for 90 s and does not refresh is ended (our BYE) at 60 s (RFC 4028: expiry minus a third)', async () => {
    const call = sipp('session-timer.xml', 'meet.timed**2468');
    await until(
      () => platform.node.manager.conferences().some((c) => c.participants.some((p) => p.protocol === 'sip' && p.leg !== null)),
      (up) => up,
      15_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    await clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(call.state.done, 'no BYE before the session expires').toBe(false);
    await clock.advance(1_000);
    expect(await call.exit, 'the 200 named the session interval, and sipp got our BYE and answered it').toBe(0);
    await until(
      () => platform.node.manager.conferences().some((c) => c.participants.some((p) => p.protocol === 'sip')),
      (any) => !any,
      10_000,
    );
  }, 60_000);

  it('PIN entry: keeps the caller 44 s, and hangs up at 45 s', async () => {
    const before = clock.pending;
    const call = sipp('pin-timeout.xml', 'meet.timed');
    // Answered at PIN entry: its timer is on the clock.
    await until(
      () => clock.pending,
      (n) => n > before,
      15_000,
    );
    await clock.advance(44_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(call.state.done, 'no BYE before the timeout').toBe(false);
    await clock.advance(1_000);
    expect(await call.exit, 'sipp got our BYE and answered it').toBe(0);
  }, 60_000);
});
