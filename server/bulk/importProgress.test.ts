import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { ALIAS_MESSAGES } from '../../shared/alias/alias.schema.js';
import { PIN_MESSAGES } from '../../shared/conference/pin.js';
import { listAdminLog } from '../audit/adminLog.service.js';
import { createObject, findObjectByName, getObject, listObjects } from '../config/config.service.js';
import { AppError } from '../errors/AppError.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import type { Context } from '../trpc/trpc.js';
import { CSV_COLUMNS, CSV_MESSAGES, MAX_ERRORS } from './csvFormat.js';
import { importCsv, type ImportProgress } from './csvImport.js';
import type { ImportJobView } from './ImportJobs.js';

/** N VMRs named `<prefix> 00001`…, two aliases each (two rows per VMR), as the bench imports them. */
function vmrCsv(prefix: string, count: number, bad?: { vmr: number; pin: string }): string {
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = String(i).padStart(5, '0');
    for (const alias of [`${prefix}.${id}`, `${prefix}.${id}@example.com`]) {
      const cells: Record<string, string> = { name: `${prefix} ${id}`, pin: bad?.vmr === i ? bad.pin : '', alias_alias: alias };
      lines.push(CSV_COLUMNS.vmr.map((c) => cells[c] ?? '').join(','));
    }
  }
  return lines.join('\n') + '\n';
}

const STAGES: ImportProgress['stage'][] = ['reading', 'validating', 'writing', 'done'];
const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

describe.each(TEST_DATABASES)('bulk import of 10,000 rows on $name', ({ open }) => {
  let server: ManagementServer;
  const auth = `Basic ${Buffer.from('admin:bulk-pw').toString('base64')}`;
  const vmrCount = async () => (await listObjects(server.dom, 'vmr', { limit: 1 })).total;
  const caller = () =>
    appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
      sessionToken: undefined,
      setCookie: () => {},
    } satisfies Context);

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'bulk-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server.stop());

  it('imports 10,000 VMRs in the background: the API answers other requests meanwhile, progress only grows, then the summary', async () => {
    const trpc = caller();
    const started = await trpc.bulk.startImport({ kind: 'vmr', csv: vmrCsv('room', 10_000) });
    expect(started).toMatchObject({ kind: 'vmr', stage: 'reading' });

    // Another client reads over HTTP while the import runs; each read is answered.
    const seen: ImportJobView[] = [];
    let readsWhileRunning = 0;
    for (;;) {
      const job = await trpc.bulk.importJob({ id: started.id });
      seen.push(job);
      if (job.stage === 'done' || job.stage === 'failed') break;
      const r = await fetch(`${server.url}/api/admin/configuration/v1/system_location/?limit=5`, { headers: { authorization: auth } });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      readsWhileRunning++;
    }
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ stage: 'done', total: 10_000, validated: 10_000, written: 10_000, created: 10_000, updated: 0 });
    // Reads were answered while rows were still being checked, not only once the import was over.
    expect(seen.some((j) => j.stage === 'validating' && j.validated > 0 && j.validated < 10_000)).toBe(true);
    expect(readsWhileRunning).toBeGreaterThan(3);
    for (let i = 1; i < seen.length; i++) {
      expect(STAGES.indexOf(seen[i]!.stage)).toBeGreaterThanOrEqual(STAGES.indexOf(seen[i - 1]!.stage));
      expect(seen[i]!.validated).toBeGreaterThanOrEqual(seen[i - 1]!.validated);
      expect(seen[i]!.written).toBeGreaterThanOrEqual(seen[i - 1]!.written);
    }
    expect(await vmrCount()).toBe(10_000);
    const room = (await findObjectByName(server.dom, 'vmr', 'room 09999'))!;
    expect((room.aliases as { alias: string }[]).map((a) => a.alias)).toEqual(['room.09999', 'room.09999@example.com']);
    // One administrator log entry per object, as for single changes.
    const log = await listAdminLog(server.dom, { search: 'room 09999' });
    expect(log.items).toMatchObject([{ action: 'added', objectType: 'Virtual Meeting Room', objectId: room.id, username: 'admin' }]);
  }, 120_000);

  it('re-imports the same 10,000 with a change: each one overwritten, aliases replaced, one log entry each', async () => {
    const csv = vmrCsv('room', 10_000).replaceAll('@example.com', '@example.org');
    expect(await importCsv(server.dom, 'vmr', csv)).toEqual({ created: 0, updated: 10_000 });
    expect(await vmrCount()).toBe(10_000);
    const room = (await findObjectByName(server.dom, 'vmr', 'room 00042'))!;
    expect((room.aliases as { alias: string }[]).map((a) => a.alias)).toEqual(['room.00042', 'room.00042@example.org']);
    const log = await listAdminLog(server.dom, { search: 'room 00042' });
    expect(log.items.map((e) => e.action)).toEqual(['changed', 'added']);
    expect(log.items[0]!.changes).toEqual({ aliases: { before: ['room.00042', 'room.00042@example.com'], after: ['room.00042', 'room.00042@example.org'] } });
  }, 120_000);

  it('rejects all 10,000 when the 9,999th is bad, and says how many objects were rejected', async () => {
    const before = await vmrCount();
    const trpc = caller();
    const { id } = await trpc.bulk.startImport({ kind: 'vmr', csv: vmrCsv('bad', 10_000, { vmr: 9_999, pin: '12x4' }) });
    let job = await trpc.bulk.importJob({ id });
    while (job.stage !== 'done' && job.stage !== 'failed') {
      await pause();
      job = await trpc.bulk.importJob({ id });
    }
    // VMR 9,999 is on lines 19,997-19,998; the last row of a name is the one used.
    expect(job).toMatchObject({ stage: 'failed', rejected: 1, errors: [`Line 19998: pin: ${PIN_MESSAGES.format}`] });
    expect(job.created).toBeUndefined();
    expect(await vmrCount()).toBe(before);
    expect(await findObjectByName(server.dom, 'vmr', 'bad 00001')).toBeNull();
  }, 120_000);

  it('counts every rejected row though only the first messages are listed', async () => {
    // 100 bad PINs (checked while reading), then 50 aliases already held (checked against the database).
    const badPins = Array.from({ length: 100 }, (_, i) => `pins${i},,12x${i},,,meet.pins${i}`);
    await importCsv(server.dom, 'vmr', Array.from({ length: 50 }, (_, i) => `held${i},,,,,meet.held${i}`).join('\n'));
    const taken = Array.from({ length: 50 }, (_, i) => `taken${i},,,,,meet.held${i}`);
    const events: ImportProgress[] = [];
    const first = await importCsv(server.dom, 'vmr', badPins.join('\n'), { onProgress: (p) => events.push({ ...p }) }).catch((e: unknown) => e);
    expect((first as AppError).fields?.file).toHaveLength(MAX_ERRORS + 1);
    expect((first as AppError).fields?.file?.at(-1)).toBe(CSV_MESSAGES.tooManyErrors(80));
    expect(events.at(-1)).toMatchObject({ stage: 'failed', rejected: 100 });
    events.length = 0;
    const second = await importCsv(server.dom, 'vmr', ['fine,,,,,meet.fine', ...taken].join('\n'), { onProgress: (p) => events.push({ ...p }) }).catch(
      (e: unknown) => e,
    );
    expect((second as AppError).fields?.file?.[0]).toBe(`Line 2: alias_alias: ${ALIAS_MESSAGES.inUse('held0')}`);
    expect(events.at(-1)).toMatchObject({ stage: 'failed', rejected: 50 });
    expect(await findObjectByName(server.dom, 'vmr', 'fine')).toBeNull();
  });

  it('checks aliases across the file and against the database in one pass; an alias a service gives up may move to another', async () => {
    await importCsv(server.dom, 'vmr', 'ann,,,,,meet.ann\nben,,,,,meet.ben\n');
    // Line 3 takes an alias of line 1, line 4 one held by "ben" (not in the file): both reported, nothing stored.
    const err = await importCsv(server.dom, 'vmr', 'cat,,,,,meet.cat\ndan,,,,,meet.dan\neve,,,,,meet.cat\nfay,,,,,meet.ben\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).fields?.file).toEqual([
      `Line 3: alias_alias: ${ALIAS_MESSAGES.inUse('cat')}`,
      `Line 4: alias_alias: ${ALIAS_MESSAGES.inUse('ben')}`,
    ]);
    expect(await findObjectByName(server.dom, 'vmr', 'cat')).toBeNull();

    // ann gives meet.ann to ben, in the same file, whatever the order of the rows.
    expect(await importCsv(server.dom, 'vmr', 'ben,,,,,meet.ann\nben,,,,,meet.ben\nann,,,,,meet.anne\n')).toEqual({ created: 0, updated: 2 });
    const aliases = async (n: string) => ((await findObjectByName(server.dom, 'vmr', n))!.aliases as { alias: string }[]).map((a) => a.alias);
    expect(await aliases('ben')).toEqual(['meet.ann', 'meet.ben']);
    expect(await aliases('ann')).toEqual(['meet.anne']);
  });

  it('imports ADPs in batches too: an ADP in two conferences matched by two rows takes the later row', async () => {
    const a = await createObject(server.dom, 'vmr', { name: 'adp room a' });
    const b = await createObject(server.dom, 'vmr', { name: 'adp room b' });
    const shared = await createObject(server.dom, 'automatic_participant', { alias: 'both@example.com', conference: [a.id, b.id] });
    const text = 'both@example.com,,,,,chair,,,,,,,adp room a\nboth@example.com,,,,,guest,,,,,,,adp room b\nnew@example.com,,,,,guest,,,,,,,adp room b\n';
    expect(await importCsv(server.dom, 'automatic_participant', text)).toEqual({ created: 1, updated: 1 });
    const after = await getObject(server.dom, 'automatic_participant', shared.id);
    expect(after).toMatchObject({ role: 'guest', conference: [a.id, b.id] });
    expect(await findObjectByName(server.dom, 'automatic_participant', 'new@example.com')).toMatchObject({ conference: [b.id] });
  });

  it('reports progress through the import: stages in order, counts that only grow', async () => {
    const events: ImportProgress[] = [];
    const result = await importCsv(server.dom, 'vmr', vmrCsv('step', 5_000), { onProgress: (p) => events.push({ ...p }) });
    expect(result).toEqual({ created: 5_000, updated: 0 });
    expect([...new Set(events.map((e) => e.stage))]).toEqual(STAGES);
    const validating = events.filter((e) => e.stage === 'validating').map((e) => e.validated);
    // Validation reports at each turn it gives the event loop (every few ms of work).
    expect(new Set(validating).size).toBeGreaterThan(1);
    expect(validating).toEqual([...validating].sort((a, b) => a - b));
    const written = events.filter((e) => e.stage === 'writing').map((e) => e.written);
    expect(written).toEqual([...written].sort((a, b) => a - b));
    expect(events.at(-1)).toEqual({ stage: 'done', total: 5_000, validated: 5_000, written: 5_000 });
  });

  it('answers an unknown import id with 404 and refuses a second import of the same administrator while one runs', async () => {
    const trpc = caller();
    await expect(trpc.bulk.importJob({ id: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const first = await trpc.bulk.startImport({ kind: 'vmr', csv: vmrCsv('twice', 2_000) });
    await expect(trpc.bulk.startImport({ kind: 'vmr', csv: 'x,,,,,meet.x' })).rejects.toMatchObject({ code: 'CONFLICT' });
    let job = await trpc.bulk.importJob({ id: first.id });
    while (job.stage !== 'done' && job.stage !== 'failed') {
      await pause();
      job = await trpc.bulk.importJob({ id: first.id });
    }
    expect(job).toMatchObject({ stage: 'done', created: 2_000 });
  }, 60_000);
});
