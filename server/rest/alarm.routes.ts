import type { FastifyInstance } from 'fastify';
import type { AlarmRow } from '../alarms/AlarmManager.js';
import type { Domain } from '../domain.js';
import { alarmSchema, getAlarm, HISTORY_ALARM_BASE, historyAlarmObject, listAlarms, STATUS_ALARM_BASE, statusAlarmObject } from '../alarms/alarm.service.js';
import { requireApiPermission } from './basicAuth.js';
import { listEnvelope, paging } from './tastypie.js';

type Q = Record<string, string>;
const NOT_FOUND = { error: 'Not found' };

/** status/v1 `alarm` (active alarms) and history/v1 `alarm` (all, with time_lowered), read with "May view status". */
export function registerAlarmRoutes(app: FastifyInstance, dom: Domain): void {
  const routes: [string, 'active' | 'all', (a: AlarmRow) => object][] = [
    [STATUS_ALARM_BASE, 'active', statusAlarmObject],
    [HISTORY_ALARM_BASE, 'all', historyAlarmObject],
  ];
  for (const [base, which, shape] of routes) {
    app.get<{ Querystring: Q }>(base, async (req, reply) => {
      if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
      const page = paging(req.query);
      const { total, rows } = await listAlarms(dom.db, req.query, page, which);
      return listEnvelope(
        base,
        req.query,
        page.limit,
        page.offset,
        total,
        rows.map((r) => shape(r)),
      );
    });
    app.get(`${base}schema/`, async (req, reply) => {
      if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
      return alarmSchema(which);
    });
    app.get<{ Params: { id: string } }>(`${base}:id/`, async (req, reply) => {
      if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
      const row = /^\d{1,9}$/.test(req.params.id) ? await getAlarm(dom.db, Number(req.params.id), which) : null;
      return row ? shape(row) : reply.code(404).send(NOT_FOUND);
    });
  }
}
