import { normaliseAlias } from '../../shared/alias/normalise.js';
import { automaticParticipantResource } from '../../shared/config/resources/usersDevices.js';
import { serviceConfigSchema, type AutomaticParticipantConfig, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import { listRecords, listServiceRecords } from '../config/config.service.js';
import type { Domain } from '../domain.js';

const serviceType = serviceConfigSchema.shape.serviceType.catch('conference');

/** Every service with its normalised aliases, as the node agents need them; fields a service type lacks go as their defaults. */
export async function servicesForNodes(dom: Domain): Promise<ServiceConfig[]> {
  const { items } = await listServiceRecords(dom, { orderBy: 'id', limit: Number.MAX_SAFE_INTEGER });
  const adps = await automaticParticipantsByService(dom);
  return items.map((r) => {
    const hostView = 'host_view' in r ? r.host_view : 'one_main_seven_pips';
    const chat = 'enable_chat' in r ? r.enable_chat : 'default';
    return {
      id: r.id,
      name: r.name,
      serviceType: serviceType.parse(r.service_type),
      // A type without PINs (e.g. the Test Call Service) has none to check.
      pin: 'pin' in r ? r.pin : '',
      guestPin: 'guest_pin' in r ? r.guest_pin : '',
      allowGuests: 'allow_guests' in r ? r.allow_guests : false,
      participantLimit: 'participant_limit' in r ? r.participant_limit : null,
      aliases: r.aliases.map((a) => normaliseAlias(a.alias)),
      guestsCanPresent: 'guests_can_present' in r ? r.guests_can_present : true,
      tag: r.tag,
      // "Use global setting" stays null: the node applies the global Enable chat.
      chatEnabled: chat === 'default' ? null : chat === 'yes',
      cryptoMode: 'crypto_mode' in r ? r.crypto_mode : null,
      matchString: 'match_string' in r ? r.match_string : '',
      replaceString: 'replace_string' in r ? r.replace_string : '',
      themeId: r.ivr_theme,
      hostView,
      // A VMR has one "View" for everyone; a Virtual Auditorium a Guest view of its own.
      guestView: 'guest_view' in r ? r.guest_view : hostView,
      muteAllGuests: 'mute_all_guests' in r ? r.mute_all_guests : false,
      automaticParticipants: [...new Set([...(adps.byService.get(r.id) ?? []), ...('automatic_participants' in r ? r.automatic_participants : [])])].flatMap(
        (id) => adps.byId.get(id) ?? [],
      ),
    };
  });
}

/** Each ADP as the node dials it, and which services dial it (the ADP's Conference list). */
async function automaticParticipantsByService(dom: Domain): Promise<{ byId: Map<number, AutomaticParticipantConfig>; byService: Map<number, number[]> }> {
  const { items } = await listRecords(dom, automaticParticipantResource, { orderBy: 'id', limit: 1_000_000 });
  const byId = new Map<number, AutomaticParticipantConfig>();
  const byService = new Map<number, number[]>();
  for (const a of items) {
    byId.set(a.id, {
      alias: a.alias,
      displayName: a.remote_display_name ?? '',
      role: a.role === 'chair' ? 'chair' : 'guest',
      protocol: a.protocol,
      routing: a.routing === 'routing_rule' ? 'routing_rule' : 'manual',
      dtmfSequence: a.dtmf_sequence ?? '',
    });
    for (const c of a.conference) byService.set(c, [...(byService.get(c) ?? []), a.id]);
  }
  return { byId, byService };
}
