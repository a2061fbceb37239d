/**
 * The console's actions on live conferences and participants (Status > Live status), with
 * "May modify conference status": the same commands as the management API's `command/v1/…`,
 * carried out by the node hosting them.
 * - `participant` (mutation; input `{ participantId, action }`, action `disconnect | mute | unmute |
 *   spotlighton | spotlightoff | unlock | make_host | make_guest`).
 * - `transfer` (mutation; input `{ participantId, conferenceAlias, role, pin? }`): to another service's alias.
 * - `conference` (mutation; input `{ conferenceId, action }`, action `lock | unlock | mute_guests |
 *   unmute_guests | disconnect`).
 * - `dial` (mutation; input `{ conferenceName, destination, role, displayName?, dtmfSequence? }`): a SIP
 *   call from the conference (its service's first alias is the caller ID); answers the new participant's id.
 * - `layout` (mutation; input `{ conferenceId, layout }`, Pexip's short names `1:0 | 4:0 | 1:7 | 1:21 | 2:21`).
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { layoutShort } from '../../../shared/client-api/conference.js';
import { CommandDispatcher } from '../../command/CommandDispatcher.js';
import { CommandError } from '../../command/CommandError.js';
import {
  CONFERENCE_COMMANDS,
  conferenceCommand,
  dialAliasOf,
  dialCommand,
  PARTICIPANT_COMMANDS,
  participantCommand,
  participantDialBody,
  type CommandContext,
} from '../../command/command.service.js';
import { permittedProcedure, router, type Context } from '../trpc.js';

const TRPC_CODE = { 400: 'BAD_REQUEST', 404: 'NOT_FOUND', 503: 'SERVICE_UNAVAILABLE', 504: 'TIMEOUT' } as const;

async function run<T>(ctx: Context, command: (c: CommandContext) => Promise<T>): Promise<T> {
  try {
    return await command({ dom: ctx.dom, status: ctx.status, dispatcher: CommandDispatcher.for(ctx.registry) });
  } catch (err) {
    if (err instanceof CommandError) throw new TRPCError({ code: TRPC_CODE[err.httpStatus], message: err.message });
    throw err;
  }
}

export const commandRouter = router({
  participant: permittedProcedure('status', 'modify')
    .input(z.object({ participantId: z.string().min(1).max(64), action: z.enum([...PARTICIPANT_COMMANDS, 'make_host', 'make_guest']) }))
    .mutation(({ ctx, input }) =>
      run(ctx, (c) =>
        participantCommand(
          c,
          input.participantId,
          input.action === 'make_host' || input.action === 'make_guest'
            ? { action: 'role', role: input.action === 'make_host' ? 'chair' : 'guest' }
            : { action: input.action },
        ),
      ),
    ),
  transfer: permittedProcedure('status', 'modify')
    .input(
      z.object({
        participantId: z.string().min(1).max(64),
        conferenceAlias: z.string().trim().min(1, 'Enter the alias to transfer to').max(250),
        role: z.enum(['chair', 'guest']),
        pin: z.string().max(64).optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      run(ctx, (c) =>
        participantCommand(c, input.participantId, {
          action: 'transfer',
          conference_alias: input.conferenceAlias,
          role: input.role,
          ...(input.pin ? { pin: input.pin } : {}),
        }),
      ),
    ),
  dial: permittedProcedure('status', 'modify')
    .input(
      z.object({
        conferenceName: z.string().min(1).max(250),
        destination: z.string().trim().min(1, 'Enter the alias to dial').max(250),
        role: z.enum(['chair', 'guest']),
        displayName: z.string().trim().max(250).optional(),
        dtmfSequence: z
          .string()
          .trim()
          .regex(/^[0-9*#,]*$/, 'DTMF digits (0-9, *, #) and commas only')
          .max(250)
          .optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      run(ctx, async (c) =>
        dialCommand(c, {
          ...participantDialBody.parse({ conference_alias: await dialAliasOf(c, input.conferenceName), destination: input.destination, role: input.role }),
          ...(input.displayName ? { remote_display_name: input.displayName } : {}),
          ...(input.dtmfSequence ? { dtmf_sequence: input.dtmfSequence } : {}),
        }),
      ),
    ),
  layout: permittedProcedure('status', 'modify')
    .input(z.object({ conferenceId: z.string().min(1).max(250), layout: layoutShort }))
    .mutation(({ ctx, input }) =>
      run(ctx, (c) => conferenceCommand(c, input.conferenceId, { action: 'transform_layout', transforms: { layout: input.layout } })),
    ),
  conference: permittedProcedure('status', 'modify')
    .input(z.object({ conferenceId: z.string().min(1).max(250), action: z.enum(CONFERENCE_COMMANDS) }))
    .mutation(({ ctx, input }) => run(ctx, (c) => conferenceCommand(c, input.conferenceId, { action: input.action }))),
});
