import { LAYOUT_NAMES } from '../../shared/node-protocol/messages.js';
import { z } from 'zod';
import { normaliseAlias } from '../../shared/alias/normalise.js';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';
import { listServices } from '../config/config.service.js';
import type { Domain } from '../domain.js';

// A service's `settings` JSON as the nodes need it; fields a service type lacks read as their defaults.
const layoutName = z.enum(LAYOUT_NAMES);
const nodeSettingsOfService = z.object({
  guests_can_present: z.boolean().catch(true),
  enable_chat: z.enum(['default', 'yes', 'no']).catch('default'),
  match_string: z
    .string()
    .nullish()
    .catch(null)
    .transform((v) => v ?? ''),
  replace_string: z
    .string()
    .nullish()
    .catch(null)
    .transform((v) => v ?? ''),
  ivr_theme: z
    .number()
    .int()
    .nullish()
    .catch(null)
    .transform((v) => v ?? null),
  tag: z
    .string()
    .nullish()
    .catch(null)
    .transform((v) => v ?? ''),
  host_view: layoutName.catch('one_main_seven_pips'),
  guest_view: layoutName.optional().catch(undefined),
  mute_all_guests: z.boolean().catch(false),
});

// The fields every service has; a type without PINs (e.g. the Test Call Service) has none to check.
const serviceRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  pin: z.string().catch(''),
  guest_pin: z.string().catch(''),
  allow_guests: z.boolean().catch(false),
  participant_limit: z.number().int().nullable().catch(null),
  aliases: z.array(z.object({ alias: z.string() })).catch([]),
});

/** Every service with its normalised aliases, as the node agents need them. */
export async function servicesForNodes(dom: Domain): Promise<ServiceConfig[]> {
  const { items } = await listServices(dom, { orderBy: 'id', limit: Number.MAX_SAFE_INTEGER });
  return items.map(({ def, record }) => {
    const r = serviceRecord.parse(record);
    const s = nodeSettingsOfService.parse(record);
    return {
      id: r.id,
      name: r.name,
      serviceType: (['conference', 'lecture', 'two_stage_dialing', 'test_call'].includes(def.serviceType ?? '')
        ? def.serviceType
        : 'conference') as ServiceConfig['serviceType'],
      pin: r.pin,
      guestPin: r.guest_pin,
      allowGuests: r.allow_guests,
      participantLimit: r.participant_limit,
      aliases: r.aliases.map((a) => normaliseAlias(a.alias)),
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
      muteAllGuests: s.mute_all_guests,
    };
  });
}
