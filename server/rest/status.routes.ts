import type { FastifyInstance } from 'fastify';
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { requireApiPermission } from './basicAuth.js';
import { listEnvelope, paging, pexipTime } from './tastypie.js';

const BASE = '/api/admin/status/v1';

/** Live status, Pexip-style: conferences and participants by service name. */
export function registerStatusRoutes(app: FastifyInstance, dom: Domain, status: LiveStatus): void {
  app.get<{ Querystring: Record<string, string> }>(`${BASE}/conference/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const all = status.conferences().map((c) => ({
      id: c.id,
      name: c.name,
      service_type: c.serviceType,
      start_time: pexipTime(c.startTime),
      is_started: c.participants.some((p) => p.role === 'chair'),
      is_locked: false,
      guests_muted: false,
      resource_uri: `${BASE}/conference/${c.id}/`,
    }));
    const { limit, offset } = paging(req.query);
    return listEnvelope(`${BASE}/conference/`, req.query, limit, offset, all.length, all.slice(offset, offset + limit));
  });
  app.get<{ Querystring: Record<string, string> }>(`${BASE}/participant/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const all = status
      .participants()
      .filter((p) => req.query.conference === undefined || p.conference === req.query.conference)
      .map((p) => ({
        id: p.id,
        conference: p.conference,
        display_name: p.displayName,
        destination_alias: p.alias,
        role: p.role,
        protocol: p.protocol,
        call_direction: 'in',
        connect_time: pexipTime(p.connectTime),
        media_node: p.node,
        signalling_node: p.node,
        remote_address: p.remoteAddress,
        resource_uri: `${BASE}/participant/${p.id}/`,
      }));
    const { limit, offset } = paging(req.query);
    return listEnvelope(`${BASE}/participant/`, req.query, limit, offset, all.length, all.slice(offset, offset + limit));
  });
}
