/**
 * Live status for the console (issue 12). All read with "May view conference status".
 * - `conferences` (query) / `live` (subscription): the live conferences, merged across nodes, after every change.
 * - `counters` (query) / `liveCounters` (subscription, every 2 s and 200 ms after any change): conferences, participants by protocol and
 *   role, nodes up/down, load per node and per location (shared/status/liveView.ts `LiveCounters`).
 * - `conferenceParticipants` (subscription, as `liveCounters`; input `{ conference }` = service name): its participants
 *   with call quality and bandwidth (`ParticipantRowView[]`).
 * - `participantMedia` (subscription, on each media report; input `{ participantId }`): streams, call quality,
 *   its 20-s quality windows and recent bandwidth/loss (`ParticipantMediaView | null`).
 * - `timeSeries` (query; input `{ range: 'hour' | 'day' | 'week' }`): the graphs' points (`TimeSeriesPoint[]`);
 *   `timeSeriesLive` (subscription): each new 2-s point as it is sampled.
 * - `breakInBlocks` (subscription) and `liftBreakInBlock` (mutation, "May modify conference status").
 * - `registrations` (subscription): the devices registered to the nodes (alias, contact, protocol, expiry), after every change.
 * - `backplanes` (subscription; input `{ conference }`): the conference's backplane links between nodes, one each way
 *   (`BackplaneLinkView[]`), after every change.
 */
import { EventEmitter } from 'node:events';
import { conferenceParticipantsInput, participantMediaInput, timeSeriesInput } from '../../../shared/status/liveView.js';
import { breakInBlocks, liftBreakInBlock, liftBreakInBlockInput } from '../../status/breakIn.service.js';
import { conferenceParticipantRows, liveCounters, participantMediaView } from '../../status/liveView.service.js';
import { permittedProcedure, router, whileSignedIn } from '../trpc.js';

export const statusRouter = router({
  conferences: permittedProcedure('status', 'view').query(({ ctx }) => ctx.status.conferences()),
  /** The live conference list: the current one at once, then a new one after every change. */
  live: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status, 'changed', () => ctx.status.conferences()),
  ),
  counters: permittedProcedure('status', 'view').query(({ ctx }) => liveCounters(ctx.dom, ctx.status)),
  liveCounters: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status, 'live', () => liveCounters(ctx.dom, ctx.status)),
  ),
  conferenceParticipants: permittedProcedure('status', 'view')
    .input(conferenceParticipantsInput)
    .subscription(({ ctx, input, signal }) => whileSignedIn(ctx, signal, ctx.status, 'live', () => conferenceParticipantRows(ctx.status, input.conference))),
  participantMedia: permittedProcedure('status', 'view')
    .input(participantMediaInput)
    .subscription(({ ctx, input, signal }) => whileSignedIn(ctx, signal, ctx.status, 'media', () => participantMediaView(ctx.status, input.participantId))),
  timeSeries: permittedProcedure('status', 'view')
    .input(timeSeriesInput)
    .query(({ ctx, input }) => ctx.status.series.range(input.range)),
  timeSeriesLive: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status, 'sampled', () => ctx.status.series.range('hour').at(-1) ?? null),
  ),
  /** Break-in blocks in force on the nodes: the current list at once, then after every change. */
  breakInBlocks: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status.breakIn, 'changed', () => breakInBlocks(ctx.status, ctx.registry)),
  ),
  /** Registered devices on every node: the current list at once, then after every change. */
  registrations: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status.registrations, 'changed', () => {
      const names = ctx.registry.nodeNames();
      return ctx.status.registrations.rows((id) => names.get(id) ?? String(id));
    }),
  ),
  backplanes: permittedProcedure('status', 'view')
    .input(conferenceParticipantsInput)
    .subscription(({ ctx, input, signal }) =>
      whileSignedIn(ctx, signal, ctx.backplanes ?? new EventEmitter(), 'changed', () => ctx.backplanes?.linksOf(input.conference) ?? []),
    ),
  liftBreakInBlock: permittedProcedure('status', 'modify')
    .input(liftBreakInBlockInput)
    .mutation(async ({ ctx, input }) => {
      const block = await liftBreakInBlock(ctx.dom, ctx.status, ctx.registry, input.block_id);
      return { id: block.id };
    }),
});
