import { stringify } from 'csv-stringify/sync';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { getConference, getParticipant, listConferences, listMediaStreams, listParticipants, type HistoryQuery } from '../../history/history.service.js';
import { MAX_CONFERENCES } from '../../history/historyRetention.js';
import { permittedProcedure, router } from '../trpc.js';

/** The console's search over a history list: text in the name, and a range of start times. */
export const historySearchSchema = z.object({
  search: z.string().trim().max(250).optional(),
  /** Started at or after / before (ISO). */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});
const pageSchema = z.object({ offset: z.number().int().min(0).max(1_000_000).default(0), limit: z.number().int().min(1).max(200).default(50) });
const idSchema = z.object({ id: z.string().min(1).max(64) });

const toQuery = (s: z.infer<typeof historySearchSchema>, nameField: string): HistoryQuery => ({
  ...(s.search ? { [`${nameField}__icontains`]: s.search } : {}),
  ...(s.from ? { start_time__gte: s.from } : {}),
  ...(s.to ? { start_time__lt: s.to } : {}),
});

/** The guide's Conference History columns, by their API names, for the CSV export. */
export const CONFERENCE_CSV_COLUMNS = [
  'name',
  'start_time',
  'end_time',
  'duration',
  'participant_count',
  'service_type',
  'tag',
  'instant_message_count',
] as const;

/** History & Logs: conference and participant history (the same records and shapes as history/v1), read with "May view conference status". */
export const historyRouter = router({
  conferences: permittedProcedure('status', 'view')
    .input(historySearchSchema.extend(pageSchema.shape))
    .query(({ ctx, input }) => listConferences(ctx.dom.db, toQuery(input, 'name'), input)),
  participants: permittedProcedure('status', 'view')
    .input(historySearchSchema.extend(pageSchema.shape))
    .query(({ ctx, input }) => listParticipants(ctx.dom.db, toQuery(input, 'display_name'), input)),
  /** A conference with every participant's call. */
  conference: permittedProcedure('status', 'view')
    .input(idSchema)
    .query(async ({ ctx, input }) => {
      const conference = await getConference(ctx.dom.db, input.id);
      if (!conference) throw new TRPCError({ code: 'NOT_FOUND', message: 'This conference is no longer in the history.' });
      const participants = await listParticipants(ctx.dom.db, { conference: input.id, order_by: 'start_time' }, { limit: 10_000, offset: 0 });
      return { conference, participants: participants.objects };
    }),
  /** A participant's call with its media streams and its call quality windows. */
  participant: permittedProcedure('status', 'view')
    .input(idSchema)
    .query(async ({ ctx, input }) => {
      const participant = await getParticipant(ctx.dom.db, input.id);
      if (!participant) throw new TRPCError({ code: 'NOT_FOUND', message: 'This participant is no longer in the history.' });
      const streams = await listMediaStreams(ctx.dom.db, { participant: input.id }, { limit: 1_000, offset: 0 });
      return { participant, mediaStreams: streams.objects };
    }),
  /** The filtered conference list as CSV (every match, up to the guide's 10,000). */
  conferencesCsv: permittedProcedure('status', 'view')
    .input(historySearchSchema)
    .query(async ({ ctx, input }) => {
      const page = await listConferences(ctx.dom.db, toQuery(input, 'name'), { limit: MAX_CONFERENCES, offset: 0 }, false);
      const rows = page.objects.map((c) => CONFERENCE_CSV_COLUMNS.map((k) => c[k]));
      return { fileName: 'conference_history.csv', csv: stringify([[...CONFERENCE_CSV_COLUMNS], ...rows]) };
    }),
});
