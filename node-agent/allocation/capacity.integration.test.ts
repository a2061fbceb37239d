import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';

const run = promisify(execFile);

/** sipp plays a scenario once against the node; 0 when every step went as the scenario says. */
async function sipp(scenario: string, port: number, service: string): Promise<number> {
  try {
    await run(
      'sipp',
      ['-sf', scenario, `127.0.0.1:${port}`, '-s', service, '-m', '1', '-p', '0', '-i', '127.0.0.1', '-nostdin', '-timeout', '10s', '-timeout_error'],
      { timeout: 20_000 },
    );
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/**
 * Capacity at join on one real node (issue 14): its Media capacity set to one HD call, a WebRTC
 * call fills it; then a WebRTC join and a SIP INVITE get the guide's "Resource unavailable" and
 * the capacity alarm is raised; once the call ends both are taken again and the alarm clears.
 */
describe('a node at capacity refuses new calls (Resource unavailable)', () => {
  let platform: TestPlatform;
  let sipPort = 0;
  const ALIAS = 'capacity.room';
  const client = (path: string, init: { token?: string; body?: unknown } = {}) =>
    fetch(`${platform.node.url}/api/client/v2/conferences/${ALIAS}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(init.token ? { token: init.token } : {}) },
      body: JSON.stringify(init.body ?? {}),
    });
  const capacityAlarms = async () =>
    ((await (await platform.api('GET', '/api/admin/status/v1/alarm/')).json()) as { objects: { name: string; details: string }[] }).objects.filter(
      (a) => a.name === 'Call capacity limit reached',
    );

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    sipPort = platform.node.sip!.port!;
    await platform.rest('POST', 'conference/', { name: 'Capacity room', aliases: [{ alias: ALIAS }] });
    const nodeId = platform.node.link.config!.node.id;
    await platform.rest('PATCH', `worker_vm/${nodeId}/`, { media_capacity: 1 });
    await until(
      () => platform.node.manager.admission?.maxMediaTokens,
      (t) => t === 12,
      10_000,
    );
    await until(
      () => platform.node.manager.directory.lookup(ALIAS),
      (s) => s !== undefined,
      10_000,
    );
  }, 60_000);
  afterAll(async () => platform?.stop());

  it('refuses a WebRTC join and a SIP call while one HD call fills it, and takes them again when it ends', { timeout: 60_000 }, async () => {
    // Alice's call: a video offer (HD, 12 tokens).
    const alice = (
      (await (await client('request_token', { body: { display_name: 'Alice' } })).json()) as { result: { token: string; participant_uuid: string } }
    ).result;
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription!.sdp;
    await pc.close();
    const call = await client(`participants/${alice.participant_uuid}/calls`, { token: alice.token, body: { call_type: 'WEBRTC', sdp } });
    expect(call.status).toBe(200);
    expect(platform.node.manager.admission!.tokensUsed).toBe(12);

    // Full: Bob's join is refused with the guide's reason; an audio-only SIP call is answered to hear
    // that the capacity is exceeded, then hung up (sipp gets our BYE).
    const bob = await client('request_token', { body: { display_name: 'Bob' } });
    expect(bob.status).toBe(503);
    expect(await bob.json()).toEqual({ status: 'failed', result: 'Resource unavailable' });
    const refusedAt = Date.now();
    expect(await sipp(join(import.meta.dirname, 'sipp', 'invite-no-capacity.xml'), sipPort, ALIAS)).toBe(0);
    // The prompt (a 2 s pause, then its tones) plays before the BYE.
    expect(Date.now() - refusedAt).toBeGreaterThan(2_000);
    // The administrator sees why.
    const raised = await until(capacityAlarms, (l) => l.length === 1, 10_000, 100);
    expect(raised[0]!.details).toBe('out of transcoding resource');
    // The node reports itself full (its configured capacity, its held call).
    const vm = await until(
      async () =>
        (await (await platform.api('GET', `/api/admin/status/v1/worker_vm/${platform.node.link.config!.node.id}/`)).json()) as Record<string, unknown>,
      (v) => v.media_tokens_used === 12,
      10_000,
      100,
    );
    expect(vm).toMatchObject({ max_media_tokens: 12, max_hd_calls: 1, media_load: 100 });

    // Alice leaves: room again, the alarm clears, and a SIP call is answered.
    expect((await client('release_token', { token: alice.token })).status).toBe(200);
    await until(capacityAlarms, (l) => l.length === 0, 10_000, 100);
    expect(await sipp(join(import.meta.dirname, '..', 'sip', 'sipp', 'invite-call.xml'), sipPort, ALIAS)).toBe(0);
    expect((await client('request_token', { body: { display_name: 'Bob' } })).status).toBe(200);
  });

  it('in maintenance mode refuses a SIP call (503) and a WebRTC join while the call in progress goes on, at 100 % load', { timeout: 60_000 }, async () => {
    const nodeId = platform.node.link.config!.node.id;
    const carol = ((await (await client('request_token', { body: { display_name: 'Carol' } })).json()) as { result: { token: string } }).result;
    await platform.rest('PATCH', `worker_vm/${nodeId}/`, { maintenance_mode: true });
    try {
      await until(
        () => platform.node.manager.maintenanceMode,
        (m) => m,
        10_000,
      );
      expect(await sipp(join(import.meta.dirname, 'sipp', 'invite-maintenance.xml'), sipPort, ALIAS)).toBe(0);
      const dave = await client('request_token', { body: { display_name: 'Dave' } });
      expect(dave.status).toBe(503);
      expect(await dave.json()).toEqual({ status: 'failed', result: 'System in maintenance mode' });
      expect((await client('refresh_token', { token: carol.token })).status).toBe(200);
      await until(
        async () => (await (await platform.api('GET', `/api/admin/status/v1/worker_vm/${nodeId}/`)).json()) as Record<string, unknown>,
        (v) => v.media_load === 100 && v.maintenance_mode === true,
        15_000,
        200,
      );
    } finally {
      await platform.rest('PATCH', `worker_vm/${nodeId}/`, { maintenance_mode: false });
    }
  });
});
