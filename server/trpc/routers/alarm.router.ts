import { z } from 'zod';
import { listAlarms } from '../../alarms/alarm.service.js';
import { alarmHelp } from '../../alarms/alarmCatalogue.js';
import type { AlarmManager, AlarmRow } from '../../alarms/AlarmManager.js';
import { AppError } from '../../errors/AppError.js';
import { permittedProcedure, router, whileSignedIn, type Context } from '../trpc.js';

/** An alarm as the console shows it (times as ISO strings). */
const consoleAlarm = (a: AlarmRow) => ({
  id: a.id,
  name: a.name,
  identifier: a.identifier,
  level: a.level,
  details: a.details,
  instance: a.instance,
  node: a.node,
  timeRaised: a.timeRaised.toISOString(),
  timeLowered: a.timeLowered?.toISOString() ?? null,
  acknowledged: a.acknowledged,
  /** The guide's cause and suggested resolution. */
  help: alarmHelp(a.identifier) ?? null,
});
export type ConsoleAlarm = ReturnType<typeof consoleAlarm>;

const historyInput = z.object({
  limit: z.number().int().min(1).max(500).default(50),
  offset: z.number().int().min(0).max(2_000_000_000).default(0),
  level: z.enum(['critical', 'error', 'warning']).optional(),
  name: z.string().max(250).optional(),
});

const manager = (ctx: Context): AlarmManager => {
  if (!ctx.alarms) throw new AppError('INTERNAL', 'Alarms are not running on this server.');
  return ctx.alarms;
};

export const alarmRouter = router({
  /** The active alarms: the list at once, then again after every raise, lower or acknowledgement (the header badge and the Alarms page). */
  active: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, manager(ctx), 'changed', async () => (await manager(ctx).active()).map(consoleAlarm)),
  ),
  /** Every alarm, newest first (History & Logs > Alarm History). */
  history: permittedProcedure('status', 'view')
    .input(historyInput)
    .query(async ({ ctx, input }) => {
      const q: Record<string, string> = {};
      if (input.level) q.level = input.level;
      if (input.name) q.name__icontains = input.name;
      const { total, rows } = await listAlarms(ctx.dom.db, q, input, 'all');
      return { total, alarms: rows.map(consoleAlarm) };
    }),
  acknowledge: permittedProcedure('status', 'modify')
    .input(z.object({ id: z.number().int().positive() }))
    .mutation(async ({ ctx, input }) => {
      if (!(await manager(ctx).acknowledge(input.id))) throw new AppError('NOT_FOUND', 'No such alarm.');
      return { id: input.id };
    }),
});
