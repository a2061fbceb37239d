import { z } from 'zod';
import { transformLayoutBody } from '../../shared/client-api/conference.js';
import { PARTICIPANT_COMMANDS, CONFERENCE_COMMANDS, type NodeCommand } from '../../shared/node-protocol/commands.js';
import { eq } from 'drizzle-orm';
import { conference } from '../../db/schema.js';
import { recordChange } from '../audit/adminLog.service.js';
import { listAliases } from '../conference/alias.service.js';
import type { Domain } from '../domain.js';
import { actorOf } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import type { CommandDispatcher } from './CommandDispatcher.js';
import { CommandError } from './CommandError.js';

export { PARTICIPANT_COMMANDS, CONFERENCE_COMMANDS };
export type ParticipantCommand = (typeof PARTICIPANT_COMMANDS)[number];
export type ConferenceCommand = (typeof CONFERENCE_COMMANDS)[number];

/** Bodies of `command/v1/…` as Pexip takes them (management-api.md §9): the status API's ids. */
const id = (field: string) =>
  z
    .string({ error: `${field} is required.` })
    .trim()
    .min(1, `${field} is required.`)
    .max(64);
export const participantCommandBody = z.object({ participant_id: id('participant_id') });
export const participantRoleBody = participantCommandBody.extend({ role: z.enum(['chair', 'guest'], { error: 'role must be chair or guest.' }) });
export const participantTransferBody = participantCommandBody.extend({
  conference_alias: z.string({ error: 'conference_alias is required.' }).trim().min(1, 'conference_alias is required.').max(250),
  role: z.enum(['chair', 'guest'], { error: 'role must be chair or guest.' }).default('guest'),
  pin: z.string().max(64).optional(),
});
/** `participant/dial/` (management-api.md §9); Pexip's defaults: SIP, Guest. */
export const participantDialBody = z.object({
  conference_alias: z.string({ error: 'conference_alias is required.' }).trim().min(1, 'conference_alias is required.').max(250),
  destination: z.string({ error: 'destination is required.' }).trim().min(1, 'destination is required.').max(250),
  protocol: z.enum(['sip', 'h323', 'mssip', 'rtmp', 'teams', 'gms', 'auto']).default('sip'),
  role: z.enum(['chair', 'guest'], { error: 'role must be chair or guest.' }).default('guest'),
  call_type: z.enum(['video', 'video-only', 'audio']).default('video'),
  routing: z.enum(['manual', 'routing_rule']).default('manual'),
  system_location: z.string().max(250).optional(),
  node: z.string().max(64).optional(),
  remote_display_name: z.string().max(250).optional(),
  local_display_name: z.string().max(250).optional(),
  dtmf_sequence: z.string().max(250).optional(),
  streaming: z.boolean().default(false),
  keep_conference_alive: z.enum(['keep_conference_alive', 'keep_conference_alive_if_multiple', 'keep_conference_alive_never']).default('keep_conference_alive'),
  presentation_url: z.string().max(2_000).optional(),
  custom_sip_headers: z.unknown().optional(),
});
export const conferenceCommandBody = z.object({ conference_id: id('conference_id') });
const transforms = transformLayoutBody.shape.transforms;
/** Flat fields (schema, go) or mcp's nested `transforms`: both accepted (management-api.md §11). */
export const conferenceLayoutBody = conferenceCommandBody.extend(transforms.partial().shape).extend({ transforms: transforms.optional() });

export interface CommandContext {
  dom: Domain;
  status: LiveStatus;
  dispatcher: CommandDispatcher;
}

type ParticipantRequest =
  | { action: ParticipantCommand }
  | { action: 'role'; role: 'chair' | 'guest' }
  | { action: 'transfer'; conference_alias: string; role: 'chair' | 'guest'; pin?: string };

/** A command on one participant (by its status id), carried out by the node it is on. */
export async function participantCommand(ctx: CommandContext, participantId: string, req: ParticipantRequest): Promise<void> {
  const where = ctx.status.participantInstance(participantId);
  const listed = ctx.status.participants().find((p) => p.id === participantId);
  if (!where || !listed) throw new CommandError(404, 'Participant not found.');
  const base = { conferenceId: where.conferenceId, participantId };
  const command: NodeCommand =
    req.action === 'role'
      ? { kind: 'participant_role', ...base, role: req.role }
      : req.action === 'transfer'
        ? {
            kind: 'participant_transfer',
            ...base,
            transfer: {
              conference_alias: req.conference_alias,
              role: req.role === 'chair' ? 'host' : 'guest',
              ...(req.pin !== undefined ? { pin: req.pin } : {}),
            },
          }
        : { kind: 'participant', action: req.action, ...base };
  await ctx.dispatcher.send(where.nodeId, command);
  await recordChange(ctx.dom.db, actorOf(ctx.dom), {
    action: 'changed',
    objectType: 'participant',
    objectId: null,
    objectName: `${listed.conference}: ${listed.displayName}`,
    after: { command: req.action },
  });
}

type ConferenceRequest = { action: ConferenceCommand } | { action: 'transform_layout'; transforms: z.infer<typeof transforms> };

/** A command on a conference (by its status id or name), carried out on every node hosting it. */
export async function conferenceCommand(ctx: CommandContext, conferenceId: string, req: ConferenceRequest): Promise<void> {
  const instances = ctx.status.conferenceInstances(conferenceId);
  const listed = ctx.status.conferences().find((c) => c.id === conferenceId || c.name === conferenceId);
  if (instances.length === 0 || !listed) throw new CommandError(404, 'Conference not found.');
  const results = await Promise.allSettled(
    instances.map((i) =>
      ctx.dispatcher.send(
        i.nodeId,
        req.action === 'transform_layout'
          ? { kind: 'conference_layout', conferenceId: i.conferenceId, transforms: req.transforms }
          : { kind: 'conference', action: req.action, conferenceId: i.conferenceId },
      ),
    ),
  );
  // Done where it ran; an instance that ended meanwhile needs nothing more. Failing everywhere is a failure.
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === results.length) throw failures[0];
  await recordChange(ctx.dom.db, actorOf(ctx.dom), {
    action: 'changed',
    objectType: 'conference',
    objectId: null,
    objectName: listed.name,
    after: { command: req.action },
  });
}

/** The alias a live conference dials from (the console names the conference, not an alias): its service's first alias. */
export async function dialAliasOf(ctx: CommandContext, conferenceName: string): Promise<string> {
  const [service] = await ctx.dom.db.select({ id: conference.id }).from(conference).where(eq(conference.name, conferenceName));
  if (!service) throw new CommandError(404, 'Conference not found.');
  const { items } = await listAliases(ctx.dom, { conferenceId: service.id, limit: 1 });
  if (!items[0]) throw new CommandError(400, 'The service has no alias to dial from.');
  return items[0].alias;
}

/**
 * `participant/dial/`: a node calls `destination` from the service of `conference_alias` — the node
 * hosting it when it runs, else a connected node (in `system_location` when given), which starts it.
 * Returns the new participant's id.
 */
export async function dialCommand(ctx: CommandContext, body: z.infer<typeof participantDialBody>): Promise<{ participant_id: string }> {
  const { items } = await listAliases(ctx.dom, { alias: body.conference_alias, limit: 1 });
  const alias = items[0];
  if (!alias) throw new CommandError(400, 'conference_alias is not an alias of any service.');
  const [service] = await ctx.dom.db.select({ name: conference.name }).from(conference).where(eq(conference.id, alias.conference_id));
  if (!service) throw new CommandError(400, 'conference_alias is not an alias of any service.');
  const nodes = ctx.dispatcher.liveNodes();
  const hosting = ctx.status.shards().find((s) => !s.stale && s.conference.name === service.name && nodes.some((n) => n.id === s.nodeId));
  const node = hosting ? nodes.find((n) => n.id === hosting.nodeId) : nodes.find((n) => !body.system_location || n.location === body.system_location);
  if (!node)
    throw new CommandError(503, body.system_location ? `No conferencing node is connected in ${body.system_location}.` : 'No conferencing node is connected.');
  const result = await ctx.dispatcher.send(node.id, {
    kind: 'dial',
    conferenceAlias: body.conference_alias,
    destination: body.destination,
    protocol: body.protocol,
    role: body.role,
    ...(body.remote_display_name ? { remoteDisplayName: body.remote_display_name } : {}),
    ...(body.local_display_name ? { localDisplayName: body.local_display_name } : {}),
    ...(body.dtmf_sequence ? { dtmfSequence: body.dtmf_sequence } : {}),
    routing: body.routing,
  });
  await recordChange(ctx.dom.db, actorOf(ctx.dom), {
    action: 'changed',
    objectType: 'conference',
    objectId: alias.conference_id,
    objectName: service.name,
    after: { command: 'dial', destination: body.destination },
  });
  return { participant_id: result.participantId ?? '' };
}
