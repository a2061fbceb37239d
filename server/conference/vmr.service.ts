import { LAYOUT_NAMES } from '../../shared/node-protocol/messages.js';
import { asc } from 'drizzle-orm';
import { z } from 'zod';
import { conference, conferenceAlias } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';

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
