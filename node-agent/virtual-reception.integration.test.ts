import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../db/testing.js';
import type { NodeAgent } from './NodeAgent.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { until } from '../shared/testing/until.js';

/**
 * Virtual Reception end to end: real management server and node, services created over the
 * management REST API, callers using the client REST API and its SSE stream.
 */
const KEY = 'vr-integration-key';

describe.each(TEST_DATABASES)('Virtual Reception on $name', ({ open }) => {
  let platform: TestPlatform;
  let node: NodeAgent;
  const createService = (body: object) => platform.create('conference', body);
  const client = (...args: Parameters<TestPlatform['client']>) => platform.client(...args);
  const join = async (alias: string, name: string, extra: { token?: string; pin?: string } = {}) => {
    const r = await client(alias, 'request_token', { body: { display_name: name, ...(extra.token ? { token: extra.token } : {}) }, pin: extra.pin });
    return { status: r.status, body: (await r.json()) as { status: string; result: Record<string, string> | string } };
  };
  const joined = async (alias: string, name: string, extra: { token?: string; pin?: string } = {}) => {
    const r = await join(alias, name, extra);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.result as Record<string, string>;
  };
  const dtmf = async (alias: string, me: Record<string, string>, digits: string) => {
    const r = await client(alias, `participants/${me.participant_uuid}/dtmf`, { token: me.token, body: { digits } });
    return { status: r.status, body: await r.json() };
  };
  /** The caller's event stream; `got` fills as events arrive. */
  const events = async (alias: string, token: string) => {
    const s = await platform.events(alias, token);
    const splashes = () => s.of('splash_screen').map((e) => e.data?.screen_key);
    return { got: s.events, splashes, first: (name: string) => s.first(name), ended: () => s.closed, close: () => s.close() };
  };
  const reception = () => node.manager.conferences().find((c) => c.service.serviceType === 'two_stage_dialing');

  beforeAll(async () => {
    platform = await TestPlatform.start({ database: await open(), server: { enrollmentKey: KEY }, node: { name: 'vr-node', mediaPortRange: [42000, 42999] } });
    node = platform.node;
    await createService({ name: 'Alice', service_type: 'conference', aliases: [{ alias: 'meet.alice' }, { alias: '1234' }] });
    await createService({ name: 'Locked', service_type: 'conference', aliases: [{ alias: '5678' }], pin: '4321' });
    await createService({
      name: 'Reception',
      service_type: 'two_stage_dialing',
      aliases: [{ alias: 'reception' }],
      match_string: '(\\d{4})',
      replace_string: '\\1',
    });
    // The destination regex must have reached the node, not just the alias.
    await until(
      () => node.manager.directory.lookup('reception'),
      (s) => s?.matchString === '(\\d{4})',
    );
  });
  afterAll(() => platform?.stop());

  it('welcomes the caller, takes digits and refers them with a one-time token into the VMR', async () => {
    const vic = await joined('reception', 'Vic');
    expect(vic).toMatchObject({ role: 'HOST', current_service_type: 'ivr' });
    const sse = await events('reception', vic.token!);
    await until(sse.splashes, (s) => s.includes('virtual_reception_welcome'));
    expect(sse.got.find((e) => e.event === 'splash_screen')!.data).toEqual({ screen_key: 'virtual_reception_welcome', display_duration: 0 });

    expect((await dtmf('reception', vic, '12')).body).toEqual({ status: 'success', result: true });
    await until(
      () => sse.got,
      (g) => g.some((e) => e.data?.screen_key === 'virtual_reception_conference_id_entry' && e.data.conference_id === '12'),
    );
    expect((await dtmf('reception', vic, '34#')).body.result).toBe(true);

    const refer = await sse.first('refer');
    expect(refer.data).toEqual({ alias: '1234', token: expect.any(String), target: 'conference' });
    const connecting = sse.got.find((e) => e.data?.screen_key === 'virtual_reception_connecting');
    expect(connecting?.data).toMatchObject({ conference_name: 'Alice' });
    expect(sse.got.indexOf(connecting!)).toBeLessThan(sse.got.indexOf(refer));
    // Digits after the transfer started change nothing.
    await dtmf('reception', vic, '9999#');

    const transferToken = refer.data!.token as string;
    const inVmr = await joined(refer.data!.alias as string, 'Vic', { token: transferToken });
    expect(inVmr).toMatchObject({ role: 'HOST', conference_name: 'Alice', current_service_type: 'conference' });
    expect(
      node.manager
        .conferences()
        .find((c) => c.service.name === 'Alice')
        ?.participants.map((p) => p.displayName),
    ).toEqual(['Vic']);

    // The reception leg is dropped shortly after the refer.
    const bye = await sse.first('disconnect');
    expect(bye.data).toEqual({ reason: 'Call transferred' });
    expect(reception()).toBeUndefined();
    sse.close();

    // The token is single use.
    const replay = await join('1234', 'Mallory', { token: transferToken });
    expect(replay).toEqual({ status: 403, body: { status: 'success', result: 'Invalid token' } });
    const forged = await join('1234', 'Mallory', { token: 'not-a-token' });
    expect(forged).toEqual({ status: 403, body: { status: 'success', result: 'Invalid token' } });

    // DTMF outside a Virtual Reception is accepted; bad digits, tokens and calls are refused.
    expect((await dtmf('1234', inVmr, '1#')).body).toEqual({ status: 'success', result: true });
    expect(await dtmf('1234', inVmr, '12x')).toMatchObject({ status: 403 });
    expect(await dtmf('1234', { ...inVmr, token: 'bogus' }, '1')).toEqual({ status: 403, body: { status: 'success', result: 'Invalid token' } });
    const noCall = await client('1234', `participants/${inVmr.participant_uuid}/calls/nope/dtmf`, { token: inVmr.token, body: { digits: '1' } });
    expect(noCall.status).toBe(403);
    expect(await noCall.json()).toEqual({ status: 'success', result: 'Call not found' });
    await client('1234', 'release_token', { token: inVmr.token, body: {} });
  });

  it('shows the invalid screen for unknown numbers and disconnects after three', async () => {
    const eve = await joined('reception', 'Eve');
    const sse = await events('reception', eve.token!);
    await until(sse.splashes, (s) => s.includes('virtual_reception_welcome'));

    await dtmf('reception', eve, '99#'); // not allowed by the destination regex (4 digits)
    await until(sse.splashes, (s) => s.includes('virtual_reception_conference_id_invalid'));
    // …then back to the welcome screen.
    await until(sse.splashes, (s) => s.filter((k) => k === 'virtual_reception_welcome').length === 2);

    await dtmf('reception', eve, '9999#'); // allowed, but no such service
    await dtmf('reception', eve, '0000#');
    const bye = await sse.first('disconnect');
    expect(bye.data).toEqual({ reason: 'Neither conference nor gateway found' });
    expect(sse.splashes()).toEqual([
      'virtual_reception_welcome',
      'virtual_reception_conference_id_invalid',
      'virtual_reception_welcome',
      'virtual_reception_conference_id_invalid',
      'timeout',
    ]);
    expect(sse.got.some((e) => e.event === 'refer')).toBe(false);
    expect(reception()).toBeUndefined();
    await until(sse.ended, (e) => e);
  });

  it('still asks for the PIN of a protected VMR, then accepts the same token with it', async () => {
    const pat = await joined('reception', 'Pat');
    const sse = await events('reception', pat.token!);
    await dtmf('reception', pat, '5678#');
    const refer = await sse.first('refer');
    const token = refer.data!.token as string;
    expect(refer.data!.alias).toBe('5678');

    // Bound to its destination: no use elsewhere, and that attempt does not burn it.
    expect(await join('1234', 'Pat', { token })).toEqual({ status: 403, body: { status: 'success', result: 'Invalid token' } });
    const needPin = await join('5678', 'Pat', { token });
    expect(needPin.status).toBe(403);
    expect(needPin.body.result).toMatchObject({ pin: 'required', guest_pin: 'none' });
    expect((await join('5678', 'Pat', { token, pin: '0000' })).body.result).toBe('Invalid PIN');
    const inside = await joined('5678', 'Pat', { token, pin: '4321' });
    expect(inside).toMatchObject({ role: 'HOST', conference_name: 'Locked' });
    expect((await join('5678', 'Pat', { token, pin: '4321' })).body.result).toBe('Invalid token');

    // The client leaves the reception itself on refer.
    expect((await client('reception', 'release_token', { token: pat.token, body: {} })).status).toBe(200);
    await until(reception, (c) => c === undefined);
    sse.close();
    await client('5678', 'release_token', { token: inside.token, body: {} });
  });
});
