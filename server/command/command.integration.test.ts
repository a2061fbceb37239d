import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { participant as participantSchema, requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { listAdminLog } from '../audit/adminLog.service.js';
import { CommandDispatcher } from './CommandDispatcher.js';
import { CommandError } from './CommandError.js';

/**
 * The command API (management-api.md §9) over real HTTP against a real node: each command changes
 * what the node's client API and the status API show, and it is refused without credentials,
 * without "May modify conference status", and with a bad body.
 */
const COMMAND = '/api/admin/command/v1';
const statusList = z.object({ objects: z.array(z.object({ id: z.string(), name: z.string().optional(), display_name: z.string().optional() })) });

describe('command API: administrator commands carried out by the node', () => {
  let platform: TestPlatform;

  const command = (path: string, body: unknown, headers?: Record<string, string>) =>
    fetch(`${platform.server.url}${COMMAND}/${path}/`, {
      method: 'POST',
      headers: headers ?? { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const ok = async (r: Response) => {
    expect(r.status, await r.clone().text()).toBe(200);
    expect(await r.json()).toEqual({ status: 'success', data: null });
  };
  const join = async (alias: string, name: string, pin: string) => {
    const r = await platform.client(alias, 'request_token', { pin, body: { display_name: name } });
    expect(r.status).toBe(200);
    return requestTokenResult.parse(((await r.json()) as { result: unknown }).result);
  };
  const participants = async (alias: string, token: string) => {
    const r = await platform.client(alias, 'participants', { method: 'GET', token });
    return z.array(participantSchema).parse(((await r.json()) as { result: unknown }).result);
  };
  const statusOf = async (what: 'conference' | 'participant') =>
    statusList.parse(await (await platform.rest('GET', `/api/admin/status/v1/${what}/`)).json()).objects;
  const conferenceId = async (name: string) =>
    (
      await until(
        () => statusOf('conference'),
        (c) => c.some((x) => x.name === name),
      )
    ).find((x) => x.name === name)!.id;
  const listed = (id: string) =>
    until(
      () => statusOf('participant'),
      (ps) => ps.some((p) => p.id === id),
    );

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { name: 'command-node', mediaPortRange: [48000, 48099] } });
    for (const n of ['mute', 'lock', 'misc', 'end', 'dest']) {
      await platform.rest('POST', 'conference/', { name: `Room ${n}`, aliases: [{ alias: `cmd.${n}` }], pin: '1234', allow_guests: true, guest_pin: '' });
    }
    await until(
      () => platform.node.manager.directory.lookup('cmd.dest'),
      (s) => s !== undefined,
    );
  }, 60_000);
  afterAll(() => platform?.stop());

  it('participant mute and unmute: the node mutes them for everyone; recorded in the administrator log', async () => {
    const host = await join('cmd.mute', 'Hanna', '1234');
    const guest = await join('cmd.mute', 'Gus', 'none');
    await listed(guest.participant_uuid);
    await ok(await command('participant/mute', { participant_id: guest.participant_uuid }));
    const muted = await participants('cmd.mute', host.token);
    expect(muted.find((p) => p.uuid === guest.participant_uuid)?.is_muted).toBe('YES');
    expect(muted.find((p) => p.uuid === host.participant_uuid)?.is_muted).toBe('NO');
    await ok(await command('participant/unmute', { participant_id: guest.participant_uuid }));
    expect((await participants('cmd.mute', host.token)).find((p) => p.uuid === guest.participant_uuid)?.is_muted).toBe('NO');
    const log = await listAdminLog(platform.server.dom, { search: 'Gus' });
    expect(log.items.map((e) => [e.username, e.objectType, e.objectName])).toContainEqual(['admin', 'participant', 'Room mute: Gus']);
  });

  it('conference lock: a newcomer waits in the lobby until participant/unlock admits them; mute_guests, role, spotlight, layout', async () => {
    const host = await join('cmd.lock', 'Hanna', '1234');
    const id = await conferenceId('Room lock');
    await ok(await command('conference/lock', { conference_id: id }));
    const late = await join('cmd.lock', 'Lena', 'none');
    expect(late.current_service_type).toBe('waiting_room');
    await listed(late.participant_uuid);
    await ok(await command('participant/unlock', { participant_id: late.participant_uuid }));
    expect((await participants('cmd.lock', host.token)).find((p) => p.uuid === late.participant_uuid)?.service_type).toBe('conference');
    await ok(await command('conference/unlock', { conference_id: id }));
    expect((await join('cmd.lock', 'Lou', 'none')).current_service_type).toBe('conference');

    await ok(await command('conference/mute_guests', { conference_id: id }));
    let list = await participants('cmd.lock', host.token);
    expect(list.filter((p) => p.role === 'guest').map((p) => p.is_muted)).toEqual(['YES', 'YES']);
    expect(list.find((p) => p.uuid === host.participant_uuid)?.is_muted).toBe('NO');
    await ok(await command('conference/unmute_guests', { conference_id: id }));
    list = await participants('cmd.lock', host.token);
    expect(list.filter((p) => p.role === 'guest').map((p) => p.is_muted)).toEqual(['NO', 'NO']);

    await ok(await command('participant/role', { participant_id: late.participant_uuid, role: 'chair' }));
    expect((await participants('cmd.lock', host.token)).find((p) => p.uuid === late.participant_uuid)?.role).toBe('chair');
    await ok(await command('participant/spotlighton', { participant_id: late.participant_uuid }));
    expect((await participants('cmd.lock', host.token)).find((p) => p.uuid === late.participant_uuid)?.spotlight).toBeGreaterThan(0);
    // The node reports the spotlight to the server (for the console); status/v1 has no such field (Pexip's has none).
    const spotlit = () => platform.server.status.participants().find((p) => p.id === late.participant_uuid)?.isSpotlighted;
    await until(spotlit, (v) => v === true);
    expect(platform.server.status.participants().find((p) => p.id === host.participant_uuid)?.isSpotlighted).toBe(false);
    const statusV1 = (await (await platform.rest('GET', `/api/admin/status/v1/participant/${late.participant_uuid}/`)).json()) as Record<string, unknown>;
    expect(Object.keys(statusV1).filter((k) => /spotlight/i.test(k))).toEqual([]);
    await ok(await command('participant/spotlightoff', { participant_id: late.participant_uuid }));
    expect((await participants('cmd.lock', host.token)).find((p) => p.uuid === late.participant_uuid)?.spotlight).toBe(0);
    await until(spotlit, (v) => v === false);

    // Flat fields (schema) and mcp's nested transforms are both taken.
    const conf = () => platform.node.manager.conferences().find((c) => c.service.name === 'Room lock')!;
    await ok(await command('conference/transform_layout', { conference_id: id, layout: '4:0' }));
    expect(conf().layout).toEqual({ host: 'four_mains_zero_pips', guest: 'four_mains_zero_pips' });
    await ok(await command('conference/transform_layout', { conference_id: id, transforms: { guest_layout: '1:7' } }));
    expect(conf().layout).toEqual({ host: 'four_mains_zero_pips', guest: 'one_main_seven_pips' });
    const bad = await command('conference/transform_layout', { conference_id: id, layout: '9:9' });
    expect(bad.status).toBe(400);
  });

  it('participant disconnect and transfer: gone from the conference and the status API', async () => {
    const host = await join('cmd.misc', 'Hanna', '1234');
    const guest = await join('cmd.misc', 'Gus', 'none');
    const mover = await join('cmd.misc', 'Mo', 'none');
    await listed(mover.participant_uuid);
    const guestEvents = await platform.events('cmd.misc', guest.token);
    await ok(await command('participant/disconnect', { participant_id: guest.participant_uuid }));
    // Told why, in the guide's words (#pex123).
    const told = await until(
      () => guestEvents.events.find((e) => e.event === 'disconnect'),
      (e) => e !== undefined,
    );
    expect(told!.data).toMatchObject({ reason: 'Disconnected by an administrator' });
    expect((await participants('cmd.misc', host.token)).map((p) => p.uuid)).not.toContain(guest.participant_uuid);
    await until(
      () => statusOf('participant'),
      (ps) => !ps.some((p) => p.id === guest.participant_uuid),
    );
    // Already gone: 404, as Pexip answers for an ended participant.
    expect((await command('participant/disconnect', { participant_id: guest.participant_uuid })).status).toBe(404);

    const events = await platform.events('cmd.misc', mover.token);
    await ok(await command('participant/transfer', { participant_id: mover.participant_uuid, conference_alias: 'cmd.dest', role: 'guest' }));
    await until(
      () => events.events.find((e) => e.event === 'refer'),
      (e) => e !== undefined,
    );
    // A destination that does not exist: the transfer fails with the client API's reason.
    const nowhere = await command('participant/transfer', { participant_id: host.participant_uuid, conference_alias: 'cmd.nowhere' });
    expect(nowhere.status).toBe(400);
    expect(await nowhere.json()).toEqual({ status: 'error', error: 'transfer failed' });
  });

  it('conference disconnect ends the meeting everywhere', async () => {
    const host = await join('cmd.end', 'Hanna', '1234');
    await listed(host.participant_uuid);
    const id = await conferenceId('Room end');
    await ok(await command('conference/disconnect', { conference_id: id }));
    await until(
      () => statusOf('conference'),
      (cs) => !cs.some((c) => c.name === 'Room end'),
    );
    expect(platform.node.manager.conferences().some((c) => c.service.name === 'Room end')).toBe(false);
    expect((await command('conference/disconnect', { conference_id: id })).status).toBe(404);
  });

  it('refused without credentials, without "May modify conference status", and with a bad body', async () => {
    const host = await join('cmd.mute', 'Hugo', '1234');
    await listed(host.participant_uuid);
    const noAuth = await command('participant/mute', { participant_id: host.participant_uuid }, { 'content-type': 'application/json' });
    expect(noAuth.status).toBe(401);

    const role = await platform.rest('POST', 'role/', { name: 'status viewers', permissions: ['is_administrator', 'may_use_api', 'view_conference_status'] });
    await platform.rest('POST', 'user/', {
      username: 'viewer',
      password: 'viewer-pw-1',
      password_confirm: 'viewer-pw-1',
      roles: [role.headers.get('location')],
    });
    const viewer = { authorization: `Basic ${Buffer.from('viewer:viewer-pw-1').toString('base64')}`, 'content-type': 'application/json' };
    const denied = await command('participant/mute', { participant_id: host.participant_uuid }, viewer);
    expect(denied.status).toBe(403);
    expect((await participants('cmd.mute', host.token)).find((p) => p.uuid === host.participant_uuid)?.is_muted).toBe('NO');

    const missing = await command('participant/mute', {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ status: 'error', error: 'participant_id is required.' });
    const badRole = await command('participant/role', { participant_id: host.participant_uuid, role: 'king' });
    expect(badRole.status).toBe(400);
    expect(await badRole.json()).toMatchObject({ error: 'role must be chair or guest.' });
    expect((await command('conference/lock', { conference_id: 'no-such-conference' })).status).toBe(404);
    expect((await command('participant/mute', { participant_id: 'no-such-participant' })).status).toBe(404);
  });

  it('platform/snapshot: a ZIP of the configuration without PINs or secrets, the live status, the administrator log and metrics', async () => {
    const host = await join('cmd.mute', 'Snap', '1234');
    await listed(host.participant_uuid);
    const r = await command('platform/snapshot', { limit: 2, include_diagnostic_metrics: true });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/zip');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="diagnostic_snapshot_\d{8}T\d{6}\.zip"$/);
    const files = unzipSync(new Uint8Array(await r.arrayBuffer()));
    const read = (name: string) => JSON.parse(strFromU8(files[name]!)) as unknown;
    const rooms = read('configuration/vmr.json') as Record<string, unknown>[];
    const room = rooms.find((c) => c.name === 'Room mute')!;
    expect(room).toMatchObject({ name: 'Room mute', allow_guests: true });
    expect(Object.keys(room).filter((k) => /pin/i.test(k))).toEqual([]);
    expect(strFromU8(files['configuration/vmr.json']!)).not.toContain('"1234"');
    const live = read('status/conferences.json') as { name: string; participants: { displayName: string }[] }[];
    expect(live.find((c) => c.name === 'Room mute')?.participants.map((p) => p.displayName)).toContain('Snap');
    expect(read('configuration/global.json')).toEqual([expect.objectContaining({ id: 1 })]);
    expect(read('status/nodes.json')).toEqual([expect.objectContaining({ name: 'command-node' })]);
    expect((read('logs/administrator_log.json') as { objectName: string }[]).map((e) => e.objectName)).toContain('Room mute: Gus');
    expect(strFromU8(files['metrics/management.prom']!)).toContain('openmeet_conferences');

    expect((await command('platform/snapshot', { limit: 'a day' })).status).toBe(400);
    // The go client's path answers the same.
    const viaGo = await command('snapshot', {});
    expect(viaGo.status).toBe(200);
    expect(Object.keys(unzipSync(new Uint8Array(await viaGo.arrayBuffer())))).toContain('status/conferences.json');
    const role = await platform.rest('POST', 'role/', {
      name: 'status only',
      permissions: ['is_administrator', 'may_use_api', 'view_conference_status', 'view_system'],
    });
    await platform.rest('POST', 'user/', {
      username: 'statusonly',
      password: 'statusonly-pw-1',
      password_confirm: 'statusonly-pw-1',
      roles: [role.headers.get('location')],
    });
    const statusOnly = { authorization: `Basic ${Buffer.from('statusonly:statusonly-pw-1').toString('base64')}`, 'content-type': 'application/json' };
    expect((await command('platform/snapshot', {}, statusOnly)).status).toBe(403);
  });

  it('platform/snapshot holds the support log of the management node and of each conferencing node, in the guide’s line format', async () => {
    const host = await join('cmd.mute', 'Loggy', '1234');
    await listed(host.participant_uuid);
    const snapshot = async () => unzipSync(new Uint8Array(await (await command('platform/snapshot', { limit: 1 })).arrayBuffer()));
    // The node ships its lines in batches: wait for its record of this join.
    const files = await until(
      snapshot,
      (f) => strFromU8(f['logs/support_log/command-node.log'] ?? new Uint8Array()).includes('PIN entry correct'),
      20_000,
      500,
    );
    const nodeLines = strFromU8(files['logs/support_log/command-node.log']!).trimEnd().split('\n');
    const pinLine = nodeLines.find((l) => l.includes('PIN entry correct'))!;
    expect(pinLine).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 command-node \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} Level="INFO" Name="node\.client-api" Message="PIN entry correct\." /,
    );
    // The management node's own lines (a node connecting is one of them).
    const mgmt = strFromU8(files['logs/support_log/Management_Node.log']!);
    expect(mgmt).toMatch(/^\S+ Management-Node \S+ \S+ Level="(INFO|WARNING|ERROR|DEBUG)" Name="management\./m);
    expect(mgmt).toContain('node="command-node"');
    // No PIN in any log of the archive.
    for (const [name, data] of Object.entries(files)) if (name.startsWith('logs/')) expect(strFromU8(data), name).not.toContain('"1234"');
    // A window that ends before the join holds none of it.
    const earlier = unzipSync(new Uint8Array(await (await command('platform/snapshot', { limit: 1, end_limit: 1 })).arrayBuffer()));
    expect(strFromU8(earlier['logs/support_log/command-node.log'] ?? new Uint8Array())).not.toContain('Loggy');
  });

  it('takes the go client’s legacy bodies: participant_uuid, a setting (mute, spotlight, lock; toggle from live status), a configuration id, conference/start and conference/stop', async () => {
    const created = await platform.rest('POST', 'conference/', {
      name: 'Room legacy',
      aliases: [{ alias: 'cmd.legacy' }],
      pin: '1234',
      allow_guests: true,
      guest_pin: '',
    });
    const configId = Number(/\/(\d+)\/$/.exec(created.headers.get('location') ?? '')?.[1]);
    expect(configId).toBeGreaterThan(0);
    await until(
      () => platform.node.manager.directory.lookup('cmd.legacy'),
      (x) => x !== undefined,
    );
    const host = await join('cmd.legacy', 'Hal', '1234');
    const guest = await join('cmd.legacy', 'Gia', 'none');
    await listed(guest.participant_uuid);
    const gia = async () => (await participants('cmd.legacy', host.token)).find((p) => p.uuid === guest.participant_uuid)!;
    const live = () => platform.server.status.participants().find((p) => p.id === guest.participant_uuid);
    const uuid = { participant_uuid: guest.participant_uuid };

    await ok(await command('participant/mute', { ...uuid, setting: 'mute' }));
    expect((await gia()).is_muted).toBe('YES');
    await until(live, (p) => p?.isMuted === true);
    await ok(await command('participant/mute', { ...uuid, setting: 'toggle' }));
    expect((await gia()).is_muted).toBe('NO');
    await until(live, (p) => p?.isMuted === false);
    await ok(await command('participant/mute', { ...uuid, setting: 'toggle' }));
    expect((await gia()).is_muted).toBe('YES');
    await ok(await command('participant/mute', { ...uuid, setting: 'unmute' }));
    expect((await gia()).is_muted).toBe('NO');
    const badSetting = await command('participant/mute', { ...uuid, setting: 'loud' });
    expect(badSetting.status).toBe(400);
    expect(await badSetting.json()).toEqual({ status: 'error', error: 'setting must be mute, unmute or toggle.' });
    // A participant_uuid for someone not live is a 404, as with participant_id.
    expect((await command('participant/mute', { participant_uuid: 'gone', setting: 'toggle' })).status).toBe(404);

    await ok(await command('participant/spotlight', { ...uuid, setting: 'on' }));
    expect((await gia()).spotlight).toBeGreaterThan(0);
    await until(live, (p) => p?.isSpotlighted === true);
    await ok(await command('participant/spotlight', { ...uuid, setting: 'toggle' }));
    expect((await gia()).spotlight).toBe(0);
    await ok(await command('participant/role', { ...uuid, role: 'chair' }));
    expect((await gia()).role).toBe('chair');

    // The conference by its configuration id (an integer), locked, then toggled open.
    const legacyRoom = () => platform.node.manager.conferences().find((c) => c.service.name === 'Room legacy');
    await ok(await command('conference/lock', { conference_id: configId, setting: 'lock' }));
    expect(legacyRoom()?.locked).toBe(true);
    await until(
      () => platform.server.status.conferences().find((c) => c.name === 'Room legacy')?.isLocked,
      (v) => v === true,
    );
    await ok(await command('conference/lock', { conference_id: configId, setting: 'toggle' }));
    expect(legacyRoom()?.locked).toBe(false);
    expect((await command('conference/lock', { conference_id: 999_999, setting: 'lock' })).status).toBe(404);

    // conference/start by one of its aliases lets in whoever waits (as a Host's start_conference).
    await ok(await command('conference/lock', { conference_id: configId, setting: 'lock' }));
    const lea = await join('cmd.legacy', 'Lea', 'none');
    expect(lea.current_service_type).toBe('waiting_room');
    const leaNow = async () => (await participants('cmd.legacy', host.token)).find((p) => p.uuid === lea.participant_uuid)?.service_type;
    expect(await leaNow()).toBe('waiting_room');
    await ok(await command('conference/start', { conference_alias: 'cmd.legacy' }));
    expect(await leaNow()).toBe('conference');
    expect((await command('conference/start', { conference_alias: 'no.such.alias' })).status).toBe(404);

    // Refused as the current forms are: without credentials, and without "May modify conference status".
    expect((await command('participant/mute', { ...uuid, setting: 'mute' }, { 'content-type': 'application/json' })).status).toBe(401);
    const role = await platform.rest('POST', 'role/', { name: 'legacy viewer', permissions: ['is_administrator', 'may_use_api', 'view_conference_status'] });
    await platform.rest('POST', 'user/', {
      username: 'legacyview',
      password: 'legacyview-pw-1',
      password_confirm: 'legacyview-pw-1',
      roles: [role.headers.get('location')],
    });
    const viewer = { authorization: `Basic ${Buffer.from('legacyview:legacyview-pw-1').toString('base64')}`, 'content-type': 'application/json' };
    expect((await command('participant/mute', { ...uuid, setting: 'mute' }, viewer)).status).toBe(403);
    expect((await command('conference/stop', { conference_id: configId }, viewer)).status).toBe(403);
    expect((await gia()).is_muted).toBe('NO');

    await ok(await command('conference/stop', { conference_id: configId }));
    expect(legacyRoom()).toBeUndefined();
  });

  it('a node that does not answer in time gives 504, one not connected 503', async () => {
    const host = await join('cmd.misc', 'Quiet', '1234');
    await listed(host.participant_uuid);
    const where = platform.server.status.participantInstance(host.participant_uuid)!;
    const dispatcher = new CommandDispatcher(platform.server.registry, 300);
    const mute = { kind: 'participant', action: 'mute', conferenceId: where.conferenceId, participantId: host.participant_uuid } as const;
    // The same command through a live node is answered…
    await dispatcher.send(where.nodeId, mute);
    // …but not once the node stops handling commands.
    const handlers = platform.node.link.listeners('command');
    platform.node.link.removeAllListeners('command');
    try {
      const late = await dispatcher.send(where.nodeId, { ...mute, action: 'unmute' }).catch((err: unknown) => err);
      expect(late).toBeInstanceOf(CommandError);
      expect(late).toMatchObject({ httpStatus: 504, message: 'The conferencing node did not answer in time.' });
    } finally {
      for (const h of handlers) platform.node.link.on('command', h as never);
    }
    const absent = await dispatcher.send(9_999, mute).catch((err: unknown) => err);
    expect(absent).toMatchObject({ httpStatus: 503 });
  });

  it('a conference spanning two nodes: conference commands reach every node hosting it, participant commands the right one', async () => {
    const second = await NodeAgent.start({
      name: 'command-node-2',
      managementUrl: platform.server.url,
      enrollmentKey: platform.server.enrollmentKey,
      port: 0,
      dataDir: mkdtempSync(joinPath(tmpdir(), 'om-test-node-')),
      webRoot: '/nonexistent',
      mediaPortRange: [48400, 48499],
      logger: pino({ level: 'silent' }),
    });
    try {
      await until(
        () => second.manager.directory.lookup('cmd.dest'),
        (s) => s !== undefined,
        20_000,
      );
      const joinOn = async (node: NodeAgent, name: string, pin: string) => {
        const r = await fetch(`${node.url}/api/client/v2/conferences/cmd.dest/request_token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', pin },
          body: JSON.stringify({ display_name: name }),
        });
        expect(r.status).toBe(200);
        return requestTokenResult.parse(((await r.json()) as { result: unknown }).result);
      };
      const here = await joinOn(platform.node, 'Hal', '1234');
      const there = await joinOn(second, 'Tess', '1234');
      await listed(here.participant_uuid);
      await listed(there.participant_uuid);
      const id = await conferenceId('Room dest');
      await ok(await command('conference/lock', { conference_id: id }));
      const destOn = (node: NodeAgent) => node.manager.conferences().find((c) => c.service.name === 'Room dest')!;
      expect([destOn(platform.node).locked, destOn(second).locked]).toEqual([true, true]);
      expect((await joinOn(second, 'Late', 'none')).current_service_type).toBe('waiting_room');

      await ok(await command('participant/mute', { participant_id: there.participant_uuid }));
      expect([destOn(platform.node).get(here.participant_uuid)?.isMuted, destOn(second).get(there.participant_uuid)?.isMuted]).toEqual([false, true]);
      await ok(await command('conference/disconnect', { conference_id: id }));
      expect([destOn(platform.node), destOn(second)]).toEqual([undefined, undefined]);
    } finally {
      await second.stop();
    }
  }, 60_000);
});
