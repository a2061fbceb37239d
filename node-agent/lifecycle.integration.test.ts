import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagementServer } from '../server/ManagementServer.js';
import type { NodeAgent } from './NodeAgent.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { until } from '../shared/testing/until.js';
import { ManualClock } from '../shared/time/ManualClock.js';
import { DEFAULT_TEST_CALL_TIMINGS } from './conference/Conference.js';

/**
 * The node acting on its configuration, end to end: settings, locations, TURN/STUN and maintenance
 * mode set through the management REST API, observed through the client API (HTTP + SSE).
 */
const KEY = 'lifecycle-key';

describe('conferencing node acts on its configuration', () => {
  let server: ManagementServer;
  let node: NodeAgent;
  let nodeId: number;
  let platform: TestPlatform;
  // The conferences' timeouts run on a clock the test moves; HTTP, SSE and the management link stay real.
  const clock = new ManualClock();
  const rest = (method: string, path: string, body?: object) => platform.rest(method, path, body);
  const create = (resource: string, body: object) => platform.create(resource, body);
  const globalSettings = (body: object) => rest('PATCH', 'global/1/', body);
  const service = async (body: object, alias: string) => {
    await create('conference', body);
    await until(
      () => node.manager.directory.lookup(alias),
      (s) => s !== undefined,
    );
  };
  const client = (...args: Parameters<TestPlatform['client']>) => platform.client(...args);
  const joinAs = async (alias: string, name: string, pin?: string) => {
    const r = await client(alias, 'request_token', { body: { display_name: name }, pin });
    expect(r.status).toBe(200);
    return (await r.json()).result;
  };
  /** The participant's event stream, once the conference's state has arrived. */
  const events = async (alias: string, token: string) => {
    const s = await platform.events(alias, token);
    await until(
      () => s.names(),
      (n) => n.includes('conference_update'),
    );
    return s;
  };
  const release = (alias: string, token: string) => client(alias, 'release_token', { token, body: {} });

  beforeAll(async () => {
    platform = await TestPlatform.start({
      server: { enrollmentKey: KEY },
      node: { name: 'life-node', mediaPortRange: [44000, 44999], conferenceClock: clock },
    });
    ({ server, node } = platform);
    const nodes = await (await rest('GET', 'worker_vm/')).json();
    nodeId = nodes.objects.find((n: { name: string }) => n.name === 'life-node').id;
    await service({ name: 'Hosted', aliases: [{ alias: 'hosted' }], pin: '1234', allow_guests: true }, 'hosted');
    await service({ name: 'Open', aliases: [{ alias: 'open' }] }, 'open');
  });
  afterAll(() => platform?.stop());

  it('refuses new calls in maintenance mode while the conference in progress continues', async () => {
    const before = await joinAs('open', 'Before');
    await rest('PATCH', `worker_vm/${nodeId}/`, { maintenance_mode: true });
    await until(
      () => node.manager.maintenanceMode,
      (m) => m,
    );

    const refused = await client('open', 'request_token', { body: { display_name: 'During' } });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ status: 'failed', result: 'System in maintenance mode' });
    // The participant already in keeps its call.
    expect((await client('open', 'refresh_token', { token: before.token })).status).toBe(200);
    const list = await (await client('open', 'participants', { method: 'GET', token: before.token })).json();
    expect(list.result.map((p: { display_name: string }) => p.display_name)).toEqual(['Before']);

    await rest('PATCH', `worker_vm/${nodeId}/`, { maintenance_mode: false });
    await until(
      () => node.manager.maintenanceMode,
      (m) => !m,
    );
    const after = await joinAs('open', 'After');
    for (const t of [before.token, after.token]) await release('open', t);
  });

  it('holds Guests in the waiting room until a Host joins', async () => {
    await globalSettings({ waiting_for_chair_timeout: 2, guests_only_timeout: 60 });
    await until(
      () => node.manager.settings.waitingForHostTimeout,
      (s) => s === 2,
    );

    const guest = await joinAs('hosted', 'Gus', 'none');
    expect(guest).toMatchObject({ role: 'GUEST', current_service_type: 'waiting_room', service_type: 'conference' });
    const gs = await events('hosted', guest.token);
    expect(gs.of('participant_create')[0]!.data).toMatchObject({ display_name: 'Gus', service_type: 'waiting_room', role: 'guest' });
    expect(gs.of('conference_update')[0]!.data?.started).toBe(false);
    expect(gs.of('splash_screen').map((e) => e.data)).toEqual([{ screen_key: 'waiting_for_host', display_duration: 0 }]);

    const host = await joinAs('hosted', 'Hilda', '1234');
    expect(host.current_service_type).toBe('conference');
    await until(
      () => gs.names(),
      (n) => n.filter((e) => e === 'conference_update').length === 2,
    );
    const update = gs.of('participant_update').find((e) => e.data?.uuid === guest.participant_uuid);
    expect(update?.data?.service_type).toBe('conference');
    expect(gs.of('splash_screen').at(-1)!.data).toBeNull();
    expect(gs.of('conference_update').at(-1)!.data?.started).toBe(true);
    // Released: no waiting timeout any more, long past it.
    await clock.run(node.manager.settings.waitingForHostTimeout * 1000 + 1_000, { stepMs: 60_000 });
    expect(gs.names()).not.toContain('disconnect');
    for (const t of [guest.token, host.token]) await release('hosted', t);
  });

  it('disconnects a Guest after the Waiting for Host timeout', async () => {
    await globalSettings({ waiting_for_chair_timeout: 1 });
    await until(
      () => node.manager.settings.waitingForHostTimeout,
      (s) => s === 1,
    );
    const guest = await joinAs('hosted', 'Lonely', 'none');
    const gs = await events('hosted', guest.token);
    await clock.run(999, { stepMs: 999, ioMs: 50 });
    expect(gs.names()).not.toContain('disconnect');
    await clock.advance(1);
    await until(
      () => gs.of('disconnect'),
      (d) => d.length === 1,
    );
    expect(gs.of('disconnect')[0]!.data).toEqual({ reason: 'Timeout waiting for conference host to join or permit access to locked conference' });
    await until(
      () => node.manager.conferences().length,
      (n) => n === 0,
    );
  });

  it('ends the conference at once when the last Host leaves with a Guests-only timeout of 0', async () => {
    await globalSettings({ guests_only_timeout: 0, waiting_for_chair_timeout: 900 });
    await until(
      () => node.manager.settings.guestsOnlyTimeout,
      (s) => s === 0,
    );
    const host = await joinAs('hosted', 'Host', '1234');
    const guest = await joinAs('hosted', 'Guest', 'none');
    expect(guest.current_service_type).toBe('conference');
    const gs = await events('hosted', guest.token);
    await release('hosted', host.token);
    await until(
      () => gs.of('disconnect'),
      (d) => d.length === 1,
      2_000,
    );
    expect(gs.of('disconnect')[0]!.data).toEqual({ reason: 'All conference hosts departed hosted conference' });
    await until(
      () => server.status.conferences().length,
      (n) => n === 0,
      2_000,
    );
  });

  it('removes the last participant after the Last participant backstop timeout', async () => {
    await globalSettings({ eject_last_participant_backstop_timeout: 60, guests_only_timeout: 60 });
    await until(
      () => node.manager.settings.lastParticipantBackstopTimeout,
      (s) => s === 60,
    );
    const a = await joinAs('open', 'A');
    const b = await joinAs('open', 'B');
    const as = await events('open', a.token);
    // Two in the conference: the backstop does not run.
    await clock.run(61_000, { stepMs: 61_000, ioMs: 50 });
    expect(as.names()).not.toContain('disconnect');
    await release('open', b.token);
    // A's client refreshes its token as clients do, so only the backstop can end its call.
    expect((await client('open', 'refresh_token', { token: a.token })).status).toBe(200);
    await until(
      () => as.of('participant_delete').length,
      (n) => n === 1,
    );
    // The guide's minimum, 60 s, as configured: not a moment before.
    await clock.run(59_999, { stepMs: 59_999, ioMs: 50 });
    expect(as.names()).not.toContain('disconnect');
    await clock.advance(1);
    await until(
      () => as.of('disconnect'),
      (d) => d.length === 1,
    );
    expect(as.of('disconnect')[0]!.data).toEqual({ reason: 'Last remaining participant removed from conference after timeout' });
    await globalSettings({ eject_last_participant_backstop_timeout: 0 });
    await until(
      () => node.manager.settings.lastParticipantBackstopTimeout,
      (s) => s === 0,
    );
  });

  it('refuses a token used after its 120 s lifetime and drops its participant; refreshed in time, the call lives on', async () => {
    const tom = await joinAs('open', 'Tom');
    const other = await joinAs('open', 'Olga');
    expect(tom.expires).toBe('120');
    const ts = await events('open', tom.token);
    const os = await events('open', other.token);
    const participants = (token: string) => client('open', 'participants', { method: 'GET', token });
    // Refreshed a second before its lifetime is up: the new token lives 120 s from then.
    await clock.run(119_000, { stepMs: 119_000, ioMs: 50 });
    const refreshed = await client('open', 'refresh_token', { token: tom.token });
    expect(refreshed.status).toBe(200);
    const { token, expires } = (await refreshed.json()).result;
    expect(expires).toBe('120');
    await client('open', 'refresh_token', { token: other.token });
    // Well past the first lifetime, within the second.
    await clock.run(119_999, { stepMs: 119_999, ioMs: 50 });
    expect((await participants(token)).status).toBe(200);
    expect(ts.names()).not.toContain('disconnect');
    // Not refreshed again: refused with Pexip's answer, and dropped within the second.
    await clock.advance(2);
    const late = await participants(token);
    expect(late.status).toBe(403);
    expect(await late.json()).toEqual({ status: 'success', result: 'Invalid token' });
    await clock.advance(1_000);
    await until(
      () => ts.of('disconnect'),
      (d) => d.length === 1,
    );
    expect(ts.of('disconnect')[0]!.data).toEqual({ reason: 'Timer expired awaiting token refresh' });
    await until(
      () => os.of('participant_delete').map((e) => e.data?.uuid),
      (gone) => gone.includes(tom.participant_uuid),
    );
    expect((await client('open', 'refresh_token', { token: tom.token })).status).toBe(403);
    await release('open', other.token);
  });

  it("gives clients the location's STUN and TURN servers and relay-only policy", async () => {
    const stun = await create('stun_server', { name: 'Public STUN', address: 'stun.example.com', port: 19302 });
    const turn = await create('turn_server', {
      name: 'TURN',
      address: 'turn.example.com',
      server_type: 'namepsw',
      transport_type: 'udp',
      username: 'alice',
      password: 'secret-pw',
    });
    const coturn = await create('turn_server', {
      name: 'coturn',
      address: 'coturn.example.com',
      port: 443,
      server_type: 'coturn_shared',
      transport_type: 'tls',
      secret_key: 'north',
    });
    const location = await create('system_location', {
      name: 'Edge',
      client_stun_servers: [stun],
      client_turn_servers: [turn, coturn],
      use_relay_candidates_only: true,
    });
    await rest('PATCH', `worker_vm/${nodeId}/`, { system_location: location });
    await until(
      () => node.manager.location?.clientTurnServers.length,
      (n) => n === 2,
    );

    const r = await joinAs('open', 'Ice');
    expect(r.stun).toEqual([{ url: 'stun:stun.example.com:19302' }]);
    expect(r.use_relay_candidates_only).toBe(true);
    expect(r.turn[0]).toEqual({ urls: ['turn:turn.example.com:3478?transport=udp'], username: 'alice', credential: 'secret-pw' });
    expect(r.turn[1].urls).toEqual(['turns:coturn.example.com:443?transport=tcp']);
    const [expiry, user] = r.turn[1].username.split(':');
    expect(user).toBe(r.participant_uuid);
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(23 * 3600);
    expect(r.turn[1].credential).toBe(createHmac('sha1', 'north').update(r.turn[1].username).digest('base64'));
    await release('open', r.token);
  });

  it('relays chat messages over SSE, and refuses them where chat is disabled', async () => {
    const ann = await joinAs('open', 'Ann');
    const ben = await joinAs('open', 'Ben');
    expect(ann.chat_enabled).toBe(true);
    const annEvents = await events('open', ann.token);
    const benEvents = await events('open', ben.token);
    const sent = await client('open', 'message', { token: ann.token, body: { type: 'text/plain', payload: 'hello Ben' } });
    expect(await sent.json()).toEqual({ status: 'success', result: true });
    await until(
      () => benEvents.of('message_received'),
      (m) => m.length === 1,
    );
    expect(benEvents.of('message_received')[0]!.data).toEqual({
      type: 'text/plain',
      payload: 'hello Ben',
      uuid: ann.participant_uuid,
      origin: 'Ann',
      direct: false,
    });
    expect(annEvents.of('message_received')).toHaveLength(0);
    const bad = await client('open', 'message', { token: ann.token, body: { type: 'image/png', payload: 'x' } });
    expect(bad.status).toBe(400);

    // Per-service No wins over the global Yes.
    await service({ name: 'Quiet', aliases: [{ alias: 'quiet' }], enable_chat: 'no' }, 'quiet');
    const q = await joinAs('quiet', 'Quinn');
    expect(q.chat_enabled).toBe(false);
    const refused = await client('quiet', 'message', { token: q.token, body: { type: 'text/plain', payload: 'anyone?' } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ status: 'success', result: 'Chat is disabled' });

    // The global setting applies where the service uses it.
    await globalSettings({ enable_chat: false });
    await until(
      () => node.manager.settings.chatEnabled,
      (c) => !c,
    );
    expect((await client('open', 'message', { token: ann.token, body: { type: 'text/plain', payload: 'still there?' } })).status).toBe(403);
    await globalSettings({ enable_chat: true });
    for (const t of [ann.token, ben.token]) await release('open', t);
    await release('quiet', q.token);
  });

  it('runs the Test Call Service: welcome, in progress, complete, then hangs up', async () => {
    await service({ service_type: 'test_call', name: 'Test call it', aliases: [{ alias: 'test.call.it' }] }, 'test.call.it');
    const t = await joinAs('test.call.it', 'Tess');
    expect(t).toMatchObject({ current_service_type: 'test_call', service_type: 'test_call' });
    const ts = await events('test.call.it', t.token);
    const screens = () => ts.of('splash_screen').map((e) => e.data?.screen_key);
    // The guide's timeline: each screen for its time, then the hang-up, none early.
    const { welcomeMs, inProgressMs, completeMs } = DEFAULT_TEST_CALL_TIMINGS;
    for (const [ms, shown] of [
      [welcomeMs, ['test_call_welcome', 'test_call_in_progress']],
      [inProgressMs, ['test_call_welcome', 'test_call_in_progress', 'test_call_complete']],
    ] as const) {
      await clock.run(ms - 1, { stepMs: ms - 1, ioMs: 50 });
      expect(screens()).toEqual(shown.slice(0, -1));
      await clock.advance(1);
      await until(screens, (s) => s.length === shown.length);
      expect(screens()).toEqual(shown);
    }
    await clock.run(completeMs - 1, { stepMs: completeMs - 1, ioMs: 50 });
    expect(ts.names()).not.toContain('disconnect');
    await clock.advance(1);
    await until(
      () => ts.of('disconnect'),
      (d) => d.length === 1,
    );
    expect(ts.of('participant_create')[0]!.data?.service_type).toBe('test_call');
    expect(ts.of('disconnect')[0]!.data).toEqual({ reason: 'Test call finished' });
  });
});
