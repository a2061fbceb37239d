import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminAccountView, AdminRoleView } from '../../shared/admin/administration.schema.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { actionOf, requireApiPermission } from '../rest/basicAuth.js';
import { idFromUri, listEnvelope, paging, sendError } from '../rest/tastypie.js';
import {
  createAccount,
  createRole,
  deleteAccount,
  deleteRole,
  getAccount,
  getRole,
  listAccounts,
  listRoles,
  updateAccount,
  updateRole,
} from './administration.service.js';

const BASE = '/api/admin/configuration/v1';
const uri = (resource: 'role' | 'user', id: number) => `${BASE}/${resource}/${id}/`;

type Q = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { id?: string }; Querystring: Q; Body: unknown }>;

const roleObject = (r: AdminRoleView) => ({ id: r.id, name: r.name, permissions: r.permissions, builtin: r.builtin, resource_uri: uri('role', r.id) });
const userObject = (u: AdminAccountView) => ({
  id: u.id,
  username: u.username,
  full_name: u.full_name,
  email: u.email,
  roles: u.roles.map((r) => uri('role', r.id)),
  resource_uri: uri('user', u.id),
});

/** `roles` may be given as role URIs (as this API returns them) or bare ids. */
function userInput(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = { ...(body as Record<string, unknown>) };
  if (Array.isArray(b.roles)) b.roles = b.roles.map((r) => idFromUri(r, 'role') ?? r);
  return b;
}

function parseId(req: Req): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw AppError.notFound('Object');
  return id;
}

/** Filters the list endpoints understand: exact `name`/`username` and `__icontains`. */
function filtered<T>(items: T[], q: Q, field: keyof T & string): T[] {
  const exact = q[field];
  const contains = q[`${field}__icontains`]?.toLowerCase();
  return items.filter((i) => {
    const v = String(i[field]);
    return (exact === undefined || v === exact) && (contains === undefined || v.toLowerCase().includes(contains));
  });
}

/**
 * Management REST API for administrator roles (`role`, as Pexip names it) and administrator
 * accounts (`user`): Tastypie envelopes, 201 + Location, 202 on PATCH, 204 on DELETE; all of it is
 * "authentication configuration" for permission checks.
 */
export function registerAdministrationRoutes(app: FastifyInstance, dom: Domain): void {
  const handle = (fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>) => async (req: Req, reply: FastifyReply) => {
    const admin = await requireApiPermission(dom.db, req, reply, 'authentication', actionOf(req.method));
    if (!admin) return reply;
    try {
      return await fn(req, reply, { ...dom, actor: admin.username });
    } catch (err) {
      return sendError(reply, err);
    }
  };

  const resources = [
    {
      name: 'role' as const,
      list: async (d: Domain, q: Q) => filtered((await listRoles(d)).map(roleObject), q, 'name'),
      get: async (d: Domain, id: number) => roleObject(await getRole(d, id)),
      create: async (d: Domain, body: unknown) => (await createRole(d, body)).id,
      update: (d: Domain, id: number, body: unknown) => updateRole(d, id, body),
      remove: deleteRole,
    },
    {
      name: 'user' as const,
      list: async (d: Domain, q: Q) => filtered((await listAccounts(d)).map(userObject), q, 'username'),
      get: async (d: Domain, id: number) => userObject(await getAccount(d, id)),
      create: async (d: Domain, body: unknown) => (await createAccount(d, userInput(body))).id,
      update: (d: Domain, id: number, body: unknown) => updateAccount(d, id, userInput(body)),
      remove: deleteAccount,
    },
  ];

  for (const r of resources) {
    const list = `${BASE}/${r.name}/`;
    app.get(
      list,
      handle(async (req, _reply, d) => {
        const all: object[] = await r.list(d, req.query);
        const { limit, offset } = paging(req.query);
        return listEnvelope(list, req.query as Record<string, string>, limit, offset, all.length, all.slice(offset, offset + limit));
      }),
    );
    app.get(
      `${list}:id/`,
      handle(async (req, _reply, d) => r.get(d, parseId(req))),
    );
    app.post(
      list,
      handle(async (req, reply, d) => {
        const id = await r.create(d, req.body);
        return reply
          .code(201)
          .header('Location', uri(r.name, id))
          .send(await r.get(d, id));
      }),
    );
    const patch = handle(async (req, reply, d) => {
      await r.update(d, parseId(req), req.body);
      return reply.code(202).send();
    });
    app.patch(`${list}:id/`, patch);
    app.put(`${list}:id/`, patch);
    app.delete(
      `${list}:id/`,
      handle(async (req, reply, d) => {
        await r.remove(d, parseId(req));
        return reply.code(204).send();
      }),
    );
  }
}
