import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAlias, deleteAlias, getAlias, listAliases, updateAlias, type ServiceAlias } from '../conference/alias.service.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { actionOf, forgetApiCredentials, requireApiPermission } from './basicAuth.js';
import type { PermissionArea } from '../../shared/admin/permissions.js';
import { RESOURCES } from '../../shared/config/registry.js';
import { registerResourceRoutes } from './resource.routes.js';
import { idFromUri, listEnvelope, paging, pexipTime, sendError } from './tastypie.js';

const BASE = '/api/admin/configuration/v1';
const uri = (resource: string, id: number) => `${BASE}/${resource}/${id}/`;

type Q = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { id?: string }; Querystring: Q; Body: unknown }>;

function aliasObject(a: { id: number; alias: string; description: string }, conferenceId: number, creation?: string) {
  return {
    id: a.id,
    alias: a.alias,
    description: a.description,
    conference: uri('conference', conferenceId),
    creation_time: pexipTime(creation ?? null),
    resource_uri: uri('conference_alias', a.id),
  };
}

function aliasInput(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const { conference, ...rest } = body as Record<string, unknown>;
  if (conference === undefined) return rest;
  const id = idFromUri(conference, 'conference');
  if (id === null) throw AppError.validation({ conference: ['Enter a valid conference URI.'] });
  return { ...rest, conference_id: id };
}

function parseId(req: Req): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw AppError.notFound('Object');
  return id;
}

/** Pexip-compatible configuration API: Tastypie envelopes, 201 + Location, 202 on PATCH, 204 on DELETE. */
export function registerConfigurationRoutes(app: FastifyInstance, dom: Domain): void {
  // Cached API credentials carry old passwords and permissions.
  dom.bus.on('accountsChanged', forgetApiCredentials);
  registerResourceRoutes(app, dom);
  const handle =
    (fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>, area: PermissionArea = 'system') =>
    async (req: Req, reply: FastifyReply) => {
      const admin = await requireApiPermission(dom.db, req, reply, area, actionOf(req.method));
      if (!admin) return reply;
      try {
        // Changes made through the API are logged under the API user's name.
        return await fn(req, reply, { ...dom, actor: admin.username });
      } catch (err) {
        return sendError(reply, err);
      }
    };

  app.get(
    `${BASE}/`,
    handle(async () => {
      const root: Record<string, { list_endpoint: string; schema: string }> = {};
      const names = new Set([
        'conference',
        'conference_alias',
        'system_location',
        'worker_vm',
        ...RESOURCES.filter((d) => d.store !== 'conference').map((d) => d.name),
      ]);
      for (const r of [...names].sort()) {
        root[r] = { list_endpoint: `${BASE}/${r}/`, schema: `${BASE}/${r}/schema/` };
      }
      return root;
    }),
  );

  // conference_alias
  const vmrHandle = (fn: Parameters<typeof handle>[0]) => handle(fn, 'vmr');
  const aliasObj = (a: ServiceAlias) => aliasObject(a, a.conference_id, a.creation_time);
  app.get(
    `${BASE}/conference_alias/`,
    vmrHandle(async (req, _reply, d) => {
      const q = req.query;
      const { limit, offset } = paging(q);
      const conferenceId = q.conference !== undefined ? (idFromUri(q.conference, 'conference') ?? -1) : undefined;
      const r = await listAliases(d, { conferenceId, alias: q.alias, limit, offset });
      return listEnvelope(`${BASE}/conference_alias/`, q as Record<string, string>, limit, offset, r.total, r.items.map(aliasObj));
    }),
  );
  app.get(
    `${BASE}/conference_alias/:id/`,
    vmrHandle(async (req, _reply, d) => aliasObj(await getAlias(d, parseId(req)))),
  );
  app.post(
    `${BASE}/conference_alias/`,
    vmrHandle(async (req, reply, d) => {
      const a = await createAlias(d, aliasInput(req.body));
      return reply.code(201).header('Location', uri('conference_alias', a.id)).send(aliasObj(a));
    }),
  );
  const patchAlias = vmrHandle(async (req, reply, d) => {
    await updateAlias(d, parseId(req), aliasInput(req.body));
    return reply.code(202).send();
  });
  app.patch(`${BASE}/conference_alias/:id/`, patchAlias);
  app.put(`${BASE}/conference_alias/:id/`, patchAlias);
  app.delete(
    `${BASE}/conference_alias/:id/`,
    vmrHandle(async (req, reply, d) => {
      await deleteAlias(d, parseId(req));
      return reply.code(204).send();
    }),
  );
}
