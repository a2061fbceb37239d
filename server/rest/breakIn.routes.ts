import type { FastifyInstance } from 'fastify';
import type { Domain } from '../domain.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import { breakInBlocks, liftBreakInBlock, liftBreakInBlockInput } from '../status/breakIn.service.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { requireApiPermission } from './basicAuth.js';
import { listEnvelope, paging, pexipTime, sendError } from './tastypie.js';

const STATUS = '/api/admin/status/v1/break_in_block';
const COMMAND = '/api/admin/command/v1/break_in_block/lift';

const field = (type: string, nullable = false) => ({ type, nullable, blank: false, readonly: true, unique: false, default: null, help_text: '' });
/** Its Tastypie schema: a list paged as the others, without filters (the blocks are few and live). */
const BREAK_IN_SCHEMA = {
  allowed_list_http_methods: ['get'],
  allowed_detail_http_methods: ['get'],
  default_limit: 20,
  filtering: {},
  ordering: [],
  fields: {
    id: { ...field('string'), unique: true },
    block_type: field('string'),
    service_name: field('string', true),
    remote_address: field('string', true),
    start_time: field('datetime'),
    end_time: field('datetime'),
    remaining_block_duration_seconds: field('integer'),
    nodes: field('list'),
    resource_uri: { ...field('string'), unique: true },
  },
};

/**
 * Break-in blocks in force (status API, read with "May view conference status") and the
 * administrator's lift (command API, "May modify conference status"). Not in Pexip's API: named
 * after its resources (`status/v1/<object>/`, `command/v1/<object>/<action>/`).
 */
export function registerBreakInRoutes(app: FastifyInstance, dom: Domain, status: LiveStatus, registry: NodeRegistry): void {
  const all = () =>
    breakInBlocks(status, registry).map((b) => ({
      id: b.id,
      block_type: b.kind,
      ...(b.kind === 'service' ? { service_name: b.label } : { remote_address: b.key }),
      start_time: pexipTime(b.since),
      end_time: pexipTime(b.until),
      remaining_block_duration_seconds: b.remainingSeconds,
      nodes: b.nodes,
      resource_uri: `${STATUS}/${encodeURIComponent(b.id)}/`,
    }));
  app.get(`${STATUS}/schema/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    return BREAK_IN_SCHEMA;
  });
  app.get<{ Params: { id: string } }>(`${STATUS}/:id/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const block = all().find((b) => b.id === req.params.id);
    return block ?? reply.code(404).send({ error: 'Not found' });
  });
  app.get<{ Querystring: Record<string, string> }>(`${STATUS}/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const list = all();
    const { limit, offset } = paging(req.query);
    return listEnvelope(`${STATUS}/`, req.query, limit, offset, list.length, list.slice(offset, offset + limit));
  });
  app.post(`${COMMAND}/`, async (req, reply) => {
    const admin = await requireApiPermission(dom.db, req, reply, 'status', 'modify');
    if (!admin) return reply;
    const body = liftBreakInBlockInput.safeParse(req.body ?? {});
    if (!body.success) return reply.code(400).send({ status: 'error', message: 'block_id is required.' });
    try {
      const block = await liftBreakInBlock({ ...dom, actor: admin.username }, status, registry, body.data.block_id);
      return { status: 'success', message: `Break-in block lifted: ${block.label}.` };
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
