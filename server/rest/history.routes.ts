import type { FastifyInstance } from 'fastify';
import type { Domain } from '../domain.js';
import {
  deleteConference,
  getBackplane,
  getConference,
  getMediaStream,
  getParticipant,
  HISTORY_BASE,
  historySchema,
  listBackplanes,
  listConferences,
  listMediaStreams,
  listParticipants,
  type HistoryPage,
} from '../history/history.service.js';
import { requireApiPermission } from './basicAuth.js';
import { listEnvelope, paging } from './tastypie.js';

type Q = Record<string, string>;
const NOT_FOUND = { error: 'Not found' };
// Ids are the nodes' UUIDs; anything else cannot name a record (and never reaches the database).
const ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * history/v1 `conference`, `participant`, `participant/<id>/media_stream`, `media_stream` and `backplane`, read
 * with "May view conference status" (as the status API); a conference's record is deleted with
 * "May modify conference status".
 */
export function registerHistoryRoutes(app: FastifyInstance, dom: Domain): void {
  const envelope = <T>(path: string, q: Q, page: HistoryPage<T>) => listEnvelope(path, q, page.limit, page.offset, page.total, page.objects);

  // The API root: each resource's list and schema (alarm's routes, with its schema, are in alarm.routes.ts).
  app.get(`${HISTORY_BASE}/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const names = ['conference', 'participant', 'media_stream', 'backplane', 'alarm'];
    return Object.fromEntries(names.map((r) => [r, { list_endpoint: `${HISTORY_BASE}/${r}/`, schema: `${HISTORY_BASE}/${r}/schema/` }]));
  });
  // Each resource's Tastypie schema (pexshell builds its commands from it).
  for (const resource of ['conference', 'participant', 'media_stream', 'backplane'] as const) {
    app.get(`${HISTORY_BASE}/${resource}/schema/`, async (req, reply) => {
      if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
      return historySchema(resource);
    });
  }

  app.get<{ Querystring: Q }>(`${HISTORY_BASE}/conference/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    return envelope(`${HISTORY_BASE}/conference/`, req.query, await listConferences(dom.db, req.query, paging(req.query)));
  });
  app.get<{ Params: { id: string } }>(`${HISTORY_BASE}/conference/:id/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const c = ID.test(req.params.id) ? await getConference(dom.db, req.params.id) : null;
    return c ?? reply.code(404).send(NOT_FOUND);
  });
  app.delete<{ Params: { id: string } }>(`${HISTORY_BASE}/conference/:id/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'modify'))) return reply;
    const gone = ID.test(req.params.id) && (await deleteConference(dom.db, req.params.id));
    return gone ? reply.code(204).send() : reply.code(404).send(NOT_FOUND);
  });

  app.get<{ Querystring: Q }>(`${HISTORY_BASE}/participant/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    return envelope(`${HISTORY_BASE}/participant/`, req.query, await listParticipants(dom.db, req.query, paging(req.query)));
  });
  app.get<{ Params: { id: string } }>(`${HISTORY_BASE}/participant/:id/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const p = ID.test(req.params.id) ? await getParticipant(dom.db, req.params.id) : null;
    return p ?? reply.code(404).send(NOT_FOUND);
  });
  app.get<{ Params: { id: string }; Querystring: Q }>(`${HISTORY_BASE}/participant/:id/media_stream/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    if (!ID.test(req.params.id) || !(await getParticipant(dom.db, req.params.id))) return reply.code(404).send(NOT_FOUND);
    const path = `${HISTORY_BASE}/participant/${req.params.id}/media_stream/`;
    return envelope(path, req.query, await listMediaStreams(dom.db, { ...req.query, participant: req.params.id }, paging(req.query)));
  });

  app.get<{ Querystring: Q }>(`${HISTORY_BASE}/media_stream/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    return envelope(`${HISTORY_BASE}/media_stream/`, req.query, await listMediaStreams(dom.db, req.query, paging(req.query)));
  });
  app.get<{ Params: { id: string } }>(`${HISTORY_BASE}/media_stream/:id/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const s = /^\d{1,9}$/.test(req.params.id) ? await getMediaStream(dom.db, Number(req.params.id)) : null;
    return s ?? reply.code(404).send(NOT_FOUND);
  });

  app.get<{ Querystring: Q }>(`${HISTORY_BASE}/backplane/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    return envelope(`${HISTORY_BASE}/backplane/`, req.query, await listBackplanes(dom.db, req.query, paging(req.query)));
  });
  app.get<{ Params: { id: string } }>(`${HISTORY_BASE}/backplane/:id/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const b = ID.test(req.params.id) ? await getBackplane(dom.db, req.params.id) : null;
    return b ?? reply.code(404).send(NOT_FOUND);
  });
}
