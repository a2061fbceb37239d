import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/client.js';
import { conference, conferenceAlias } from '../../db/schema.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { ALIAS_MESSAGES } from '../../shared/alias/alias.schema.js';
import { PIN_MESSAGES } from '../../shared/conference/pin.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { ConfigBus } from '../platform/ConfigBus.js';
import type { InputOf } from '../../shared/config/record.js';
import { vmrResource } from '../../shared/config/resources/services.js';
import { createRecord, deleteObject, getRecord, listRecords, updateRecord, type ListObjectsQuery } from '../config/config.service.js';
import { servicesForNodes } from './servicesForNodes.js';
import { createAlias } from './alias.service.js';

// Virtual Meeting Rooms through the generic configuration layer, the one path the console and the API use.
const createVmr = (dom: Domain, input: InputOf<typeof vmrResource>) => createRecord(dom, vmrResource, input);
const getVmr = (dom: Domain, id: number) => getRecord(dom, vmrResource, id);
const updateVmr = (dom: Domain, id: number, patch: InputOf<typeof vmrResource>) => updateRecord(dom, vmrResource, id, patch);
const deleteVmr = (dom: Domain, id: number) => deleteObject(dom, vmrResource.name, id);
const listVmrs = (dom: Domain, q: ListObjectsQuery) => listRecords(dom, vmrResource, q);

async function fieldsOf(p: Promise<unknown>): Promise<Record<string, string[]>> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).fields ?? {};
}

describe.each(TEST_DATABASES)('Virtual Meeting Rooms on $name', ({ open }) => {
  let h: DatabaseHandle;
  let dom: Domain;
  const changes: string[] = [];
  beforeAll(async () => {
    h = await open();
    dom = { db: h.db, bus: new ConfigBus() };
    dom.bus.on('changed', (what) => changes.push(what));
  });
  afterAll(() => h.close());

  const rows = async () => ({
    conferences: (await h.db.select({ n: count() }).from(conference))[0]!.n,
    aliases: (await h.db.select({ n: count() }).from(conferenceAlias))[0]!.n,
  });

  it('creates, reads, updates and deletes a VMR with its aliases', async () => {
    const before = changes.length;
    const v = await createVmr(dom, {
      name: "Alice's VMR",
      aliases: [{ alias: 'meet.alice' }, { alias: 'meet.alice@example.com', description: 'SIP' }],
      pin: '1234',
    });
    expect(v).toMatchObject({ name: "Alice's VMR", pin: '1234', guest_pin: '', allow_guests: false, participant_limit: null });
    expect(v.aliases.map((a) => a.alias)).toEqual(['meet.alice', 'meet.alice@example.com']);
    expect(changes.length).toBe(before + 1);
    expect(await getVmr(dom, v.id)).toEqual(v);

    const u = await updateVmr(dom, v.id, { allow_guests: true, guest_pin: '5678', participant_limit: 10 });
    expect(u).toMatchObject({ allow_guests: true, guest_pin: '5678', participant_limit: 10, pin: '1234' });
    expect(u.aliases).toHaveLength(2); // untouched when not in the patch
    const u2 = await updateVmr(dom, v.id, { aliases: [{ alias: 'meet.alice2' }] });
    expect(u2.aliases.map((a) => a.alias)).toEqual(['meet.alice2']);

    await deleteVmr(dom, v.id);
    await expect(getVmr(dom, v.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await rows()).toEqual({ conferences: 0, aliases: 0 });
  });

  it('keeps aliases unique across services, compared as the guide normalises them', async () => {
    const bob = await createVmr(dom, { name: 'Bob', aliases: [{ alias: 'Meet.Bob' }] });
    const fields = await fieldsOf(createVmr(dom, { name: 'Other', aliases: [{ alias: 'x1' }, { alias: 'sip:meet.bob@10.0.0.1:5060' }] }));
    expect(fields).toEqual({ 'aliases.1.alias': [ALIAS_MESSAGES.inUse('Bob')] });
    // Same service may keep its own alias on update; a duplicate within one service is refused.
    await expect(updateVmr(dom, bob.id, { aliases: [{ alias: 'meet.bob' }] })).resolves.toBeTruthy();
    expect(await fieldsOf(updateVmr(dom, bob.id, { aliases: [{ alias: 'a' }, { alias: 'A' }] }))).toEqual({
      'aliases.1.alias': [ALIAS_MESSAGES.duplicateInService],
    });
    // The alias resource checks the same rule.
    expect(await fieldsOf(createAlias(dom, { alias: 'MEET.BOB', conference_id: bob.id }))).toMatchObject({ alias: [ALIAS_MESSAGES.inUse('Bob')] });
    expect(await rows()).toEqual({ conferences: 1, aliases: 1 });
    await deleteVmr(dom, bob.id);
  });

  it('reports PIN and name errors as fields and writes nothing', async () => {
    await createVmr(dom, { name: 'Taken' });
    const before = await rows();
    expect(await fieldsOf(createVmr(dom, { name: 'X', pin: '1234', guest_pin: '56789', allow_guests: true, aliases: [{ alias: 'x.y' }] }))).toEqual({
      guest_pin: [PIN_MESSAGES.sameLength],
    });
    expect(await fieldsOf(createVmr(dom, { name: 'Taken', aliases: [{ alias: 'free.alias' }] }))).toEqual({
      name: ['A service with this name already exists.'],
    });
    expect(await fieldsOf(createVmr(dom, { name: '', pin: '12' }))).toMatchObject({ name: ['This field is required.'], pin: [PIN_MESSAGES.format] });
    expect(await fieldsOf(createVmr(dom, { name: 'Y', participant_limit: -1 }))).toHaveProperty('participant_limit');
    expect(await rows()).toEqual(before);
  });

  it('lists with search (name, alias), ordering and paging', async () => {
    for (let i = 0; i < 25; i++) await createVmr(dom, { name: `Room ${String(i).padStart(2, '0')}`, aliases: [{ alias: `room${i}@example.com` }] });
    const page1 = await listVmrs(dom, { search: 'room ', limit: 10, offset: 0 });
    expect(page1.total).toBe(25);
    expect(page1.items.map((v) => v.name).slice(0, 2)).toEqual(['Room 00', 'Room 01']);
    const page3 = await listVmrs(dom, { search: 'room ', limit: 10, offset: 20 });
    expect(page3.items).toHaveLength(5);
    const desc = await listVmrs(dom, { search: 'room ', limit: 1, orderBy: '-name' });
    expect(desc.items[0]!.name).toBe('Room 24');
    const byAlias = await listVmrs(dom, { search: 'ROOM7@' });
    expect(byAlias.items.map((v) => v.name)).toEqual(['Room 07']);
    // LIKE wildcards in the search are literal.
    expect((await listVmrs(dom, { search: '%' })).total).toBe(0);
  });

  it('gives the nodes every service with normalised aliases', async () => {
    await createVmr(dom, { name: 'Node view', aliases: [{ alias: 'SIP:Node.View@Example.com' }], pin: '1111', allow_guests: true, guest_pin: '2222' });
    const svc = (await servicesForNodes(dom)).find((s) => s.name === 'Node view');
    expect(svc).toMatchObject({ aliases: ['node.view@example.com'], pin: '1111', guestPin: '2222', allowGuests: true });
  });
});
