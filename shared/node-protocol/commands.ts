import { z } from 'zod';
import { transferBody, transformLayoutBody } from '../client-api/conference.js';

/**
 * Administrator commands (management API `command/v1/…`, the console's status actions) as the
 * server sends them to the node hosting the conference or participant. The node carries them out
 * with an administrator's rights, under the client API's rules (roles, transfers), and answers with
 * a `command_result` carrying the same `requestId`.
 */
export const PARTICIPANT_COMMANDS = ['disconnect', 'mute', 'unmute', 'spotlighton', 'spotlightoff', 'unlock'] as const;
/** `start` (the go client's `conference/start/`) lets in everyone waiting, as a Host's `start_conference`. */
export const CONFERENCE_COMMANDS = ['lock', 'unlock', 'mute_guests', 'unmute_guests', 'disconnect', 'start'] as const;

export const nodeCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('participant'), action: z.enum(PARTICIPANT_COMMANDS), conferenceId: z.string().max(64), participantId: z.string().max(64) }),
  z.object({
    kind: z.literal('participant_role'),
    conferenceId: z.string().max(64),
    participantId: z.string().max(64),
    role: z.enum(['chair', 'guest']),
  }),
  z.object({
    kind: z.literal('participant_transfer'),
    conferenceId: z.string().max(64),
    participantId: z.string().max(64),
    transfer: transferBody,
  }),
  z.object({ kind: z.literal('conference'), action: z.enum(CONFERENCE_COMMANDS), conferenceId: z.string().max(64) }),
  z.object({ kind: z.literal('conference_layout'), conferenceId: z.string().max(64), transforms: transformLayoutBody.shape.transforms }),
  /** `participant/dial/`: the node calls `destination` into the service of `conferenceAlias` (started if it is not running). */
  z.object({
    kind: z.literal('dial'),
    conferenceAlias: z.string().min(1).max(250),
    destination: z.string().min(1).max(250),
    protocol: z.enum(['sip', 'h323', 'mssip', 'rtmp', 'teams', 'gms', 'auto']),
    role: z.enum(['chair', 'guest']),
    remoteDisplayName: z.string().max(250).optional(),
    localDisplayName: z.string().max(250).optional(),
    dtmfSequence: z.string().max(250).optional(),
    routing: z.enum(['manual', 'routing_rule']).default('manual'),
  }),
]);
export type NodeCommand = z.infer<typeof nodeCommandSchema>;

/** Why a node did not carry out a command: the conference or participant is gone, or the rules refused it. */
export const COMMAND_FAILURES = ['not_found', 'refused'] as const;

export const commandMessage = z.object({ type: z.literal('command'), requestId: z.string().min(1).max(64), command: nodeCommandSchema });
export const commandResultMessage = z.object({
  type: z.literal('command_result'),
  requestId: z.string().min(1).max(64),
  ok: z.boolean(),
  /** When not ok: what failed, and the reason in the guide's words (e.g. "Invalid role"). */
  failure: z.enum(COMMAND_FAILURES).optional(),
  reason: z.string().max(500).optional(),
  /** A dial's new participant (its status id). */
  participantId: z.string().max(64).optional(),
});
export type CommandResultMessage = z.infer<typeof commandResultMessage>;
