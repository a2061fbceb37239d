import { LAYOUT_NAMES } from '../../shared/node-protocol/messages.js';
import { asc } from 'drizzle-orm';
import { z } from 'zod';
import { conference, conferenceAlias } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import type { Vmr } from '../../shared/conference/vmr.schema.js';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';
import { createObject, deleteObject, getObject, listObjects, updateObject, type ConfigRecord } from '../config/config.service.js';
import type { Domain } from '../domain.js';

/** The Virtual Meeting Room shape the spine's callers use; the generic record has every other field too. */
const asVmr = (r: ConfigRecord): Vmr => r as unknown as Vmr;

export interface ListQuery {
  search?: string;
  offset?: number;
  limit?: number;
  orderBy?: 'name' | '-name' | 'id' | '-id' | 'creation_time' | '-creation_time';
  /** Exact name match (the REST API's `name=` filter). */
  name?: string;
}

export async function listVmrs(dom: Domain, q: ListQuery = {}): Promise<{ total: number; items: Vmr[] }> {
  const r = await listObjects(dom, 'vmr', { search: q.search, offset: q.offset, limit: q.limit, orderBy: q.orderBy ?? 'name', equals: q.name === undefined ? undefined : { name: q.name } });
  return { total: r.total, items: r.items.map(asVmr) };
}

export const getVmr = async (dom: Domain, id: number): Promise<Vmr> => asVmr(await getObject(dom, 'vmr', id));
export const createVmr = async (dom: Domain, input: unknown): Promise<Vmr> => asVmr(await createObject(dom, 'vmr', input));
export const updateVmr = async (dom: Domain, id: number, patch: unknown): Promise<Vmr> => asVmr(await updateObject(dom, 'vmr', id, patch));
export const deleteVmr = (dom: Domain, id: number): Promise<void> => deleteObject(dom, 'vmr', id);

// A service's `settings` JSON as the nodes need it; fields a service type lacks read as their defaults.
const layoutName = z.enum(LAYOUT_NAMES);
const nodeSettingsOfService = z.object({
  guests_can_present: z.boolean().catch(true),
  enable_chat: z.enum(['default', 'yes', 'no']).catch('default'),
  match_string: z.string().nullish().catch(null).transform((v) => v ?? ''),
  replace_string: z.string().nullish().catch(null).transform((v) => v ?? ''),
  ivr_theme: z.number().int().nullish().catch(null).transform((v) => v ?? null),
  tag: z.string().nullish().catch(null).transform((v) => v ?? ''),
  host_view: layoutName.catch('one_main_seven_pips'),
  guest_view: layoutName.optional().catch(undefined),
});

/** Every service with its normalised aliases, as the node agents need them. */
export async function servicesForNodes(db: Database): Promise<ServiceConfig[]> {
  const rows = await db.select().from(conference).orderBy(asc(conference.id));
  const aliases = await db.select().from(conferenceAlias).orderBy(asc(conferenceAlias.conferenceId), asc(conferenceAlias.viewOrder));
  const byConference = new Map<number, string[]>();
  for (const a of aliases) {
    const list = byConference.get(a.conferenceId) ?? [];
    list.push(a.normalised);
    byConference.set(a.conferenceId, list);
  }
  return rows.map((r) => {
    const s = nodeSettingsOfService.parse(r.settings ?? {});
    return {
      id: r.id,
      name: r.name,
      serviceType: (['conference', 'lecture', 'two_stage_dialing', 'test_call'].includes(r.serviceType) ? r.serviceType : 'conference') as ServiceConfig['serviceType'],
      pin: r.pin,
      guestPin: r.guestPin,
      allowGuests: r.allowGuests,
      participantLimit: r.participantLimit,
      aliases: byConference.get(r.id) ?? [],
      guestsCanPresent: s.guests_can_present,
      tag: s.tag,
      // "Use global setting" stays null: the node applies the global Enable chat.
      chatEnabled: s.enable_chat === 'default' ? null : s.enable_chat === 'yes',
      matchString: s.match_string,
      replaceString: s.replace_string,
      themeId: s.ivr_theme,
      hostView: s.host_view,
      // A VMR has one "View" for everyone; a Virtual Auditorium a Guest view of its own.
      guestView: s.guest_view ?? s.host_view,
    };
  });
}
