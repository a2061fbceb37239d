import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldSpec } from '../../shared/config/field.js';
import { fieldDefault, isWriteOnly } from '../../shared/config/field.js';
import { RESOURCES, findResource } from '../../shared/config/registry.js';
import { SERVICE_BY_TYPE } from '../../shared/config/resources/services.js';
import type { ResourceDef } from '../../shared/config/resource.js';
import {
  createRecord,
  deleteObject,
  getRecord,
  getSingletonRecord,
  listRecords,
  listServices,
  serviceDefOf,
  updateRecord,
  updateSingletonRecord,
  type ConfigRecord,
} from '../config/config.service.js';
import { keepingSecrets } from '../config/secrets.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { actionOf, requireApiPermission } from './basicAuth.js';
import { idFromUri, listEnvelope, orderBy, paging, pexipTime, sendError } from './tastypie.js';

export const BASE = '/api/admin/configuration/v1';
const uri = (resource: string, id: number) => `${BASE}/${resource}/${id}/`;
/** Services are all `conference` in the API, whatever their type. */
const apiName = (target: string) => (findResource(target)?.store === 'conference' ? 'conference' : target);

type Q = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { id?: string }; Querystring: Q; Body: unknown }>;

/** A record in the API's shape: references as URIs, nested aliases, Pexip datetimes. */
export function toApi(def: ResourceDef, r: ConfigRecord, resourceName = def.name): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id };
  for (const [k, f] of Object.entries(def.fields)) {
    const v = r[k];
    if (f.type === 'ref') out[k] = typeof v === 'number' ? uri(apiName(f.resource), v) : null;
    else if (f.type === 'refList') out[k] = ((v as number[]) ?? []).map((id) => uri(apiName(f.resource), id));
    // Write-only secrets come back blank, as Pexip's do.
    else out[k] = isWriteOnly(f) ? '' : v;
  }
  if (def.serviceType) out.service_type = def.serviceType;
  if (def.hasAliases) {
    out.aliases = (r.aliases ?? []).map((a) => ({
      id: a.id,
      alias: a.alias,
      description: a.description,
      conference: uri('conference', r.id),
      creation_time: pexipTime(r.creation_time),
      resource_uri: uri('conference_alias', a.id),
    }));
  }
  out.creation_time = pexipTime(r.creation_time);
  out.resource_uri = uri(resourceName, r.id);
  return out;
}

/** A request body in the API's shape → the domain's input (URIs to ids, alias strings to objects). */
export function fromApi(def: ResourceDef, body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  delete b.id;
  delete b.resource_uri;
  delete b.creation_time;
  delete b.service_type;
  const errors: Record<string, string[]> = {};
  for (const [k, f] of Object.entries(def.fields)) {
    if (!(k in b)) continue;
    const v = b[k];
    if (f.type === 'ref' && v !== null && v !== '') {
      const id = idFromUri(v, apiName(f.resource));
      if (id === null) errors[k] = [`Enter a valid ${apiName(f.resource)} URI.`];
      else b[k] = id;
    } else if (f.type === 'ref') b[k] = null;
    else if (f.type === 'refList' && Array.isArray(v)) {
      const ids = v.map((x) =>
        idFromUri(typeof x === 'object' && x && 'resource_uri' in x ? (x as { resource_uri: unknown }).resource_uri : x, apiName(f.resource)),
      );
      if (ids.some((id) => id === null)) errors[k] = [`Enter a list of valid ${apiName(f.resource)} URIs.`];
      else b[k] = ids;
    } else if (f.type === 'list' && Array.isArray(v)) {
      // Pexip lists of simple values come as [{value: x}] (e.g. disabled_codecs).
      b[k] = v.map((x) => (x && typeof x === 'object' && 'value' in x ? (x as { value: unknown }).value : x));
    }
  }
  if (def.hasAliases && Array.isArray(b.aliases)) {
    b.aliases = b.aliases.map((a) =>
      typeof a === 'string'
        ? { alias: a, description: '' }
        : { alias: (a as { alias?: unknown })?.alias, description: (a as { description?: unknown })?.description ?? '' },
    );
  }
  if (Object.keys(errors).length) throw AppError.validation(errors);
  return keepingSecrets(def, b);
}

function parseId(req: Req): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw AppError.notFound('Object');
  return id;
}

const ORDERABLE = (def: ResourceDef, order: string | undefined): string | undefined =>
  orderBy(order, (key) => key === 'id' || key === 'creation_time' || (Object.hasOwn(def.fields, key) && !isWriteOnly(def.fields[key]!)));

/** An equality filter's value in its field's type: a 400, not a database error, when it cannot be one. */
function filterValue(key: string, f: FieldSpec, v: string): string {
  const bad = () => new AppError('BAD_REQUEST', `Invalid value '${v.slice(0, 40)}' for the filter '${key}'.`);
  if (f.type === 'int') {
    if (!/^-?\d{1,10}$/.test(v) || Math.abs(Number(v)) > 2_147_483_647) throw bad();
    return String(Number(v));
  }
  if (f.type === 'bool') {
    if (/^(true|1)$/i.test(v)) return 'true';
    if (/^(false|0)$/i.test(v)) return 'false';
    throw bad();
  }
  return v;
}

/** Tastypie-style schema of a resource: every field's type, default, choices and help. */
function schemaOf(def: ResourceDef) {
  const typeOf = (f: FieldSpec) =>
    ({ text: 'string', int: 'integer', bool: 'boolean', choice: 'string', ref: 'related', refList: 'related', list: 'list' })[f.type];
  const fields: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(def.fields)) {
    fields[k] = {
      type: typeOf(f),
      default: fieldDefault(f),
      nullable: (f.type === 'int' && !f.required) || (f.type === 'choice' && !!f.nullable) || (f.type === 'ref' && !f.required),
      blank: f.type === 'text' ? !f.required : undefined,
      // OpenMeet's own flag beside Pexip's keys, like restarts_nodes; the help text says it in words too.
      help_text: [f.label, f.help, f.notYetActive ? 'Not acted on yet by OpenMeet' : ''].filter(Boolean).join('. '),
      readonly: !!f.readOnly,
      ...(f.type === 'choice' ? { valid_choices: f.choices.map(([v]) => v) } : {}),
      ...(f.type === 'text' ? { max_length: f.max } : {}),
      ...(f.type === 'int' ? { min: f.min, max: f.max } : {}),
      ...(f.restartsNodes ? { restarts_nodes: true } : {}),
      ...(f.notYetActive ? { not_yet_active: true } : {}),
    };
  }
  return {
    allowed_list_http_methods: def.singleton ? ['get'] : ['get', 'post'],
    allowed_detail_http_methods: def.singleton ? ['get', 'patch', 'put'] : ['get', 'put', 'patch', 'delete'],
    fields,
  };
}

/**
 * The management REST API for every resource with a definition: Tastypie envelopes and filters,
 * 201 + Location on create, 202 on PATCH/PUT, 204 on DELETE, 400 `{field: [messages]}`, and the
 * administrator's role checked for each method.
 */
export function registerResourceRoutes(app: FastifyInstance, dom: Domain, skip: ReadonlySet<string> = new Set()): void {
  const handle =
    (area: (req: Req) => ResourceDef['permission'], fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>) =>
    async (req: Req, reply: FastifyReply) => {
      try {
        const admin = await requireApiPermission(dom.db, req, reply, area(req), actionOf(req.method));
        if (!admin) return reply;
        return await fn(req, reply, { ...dom, actor: admin.username });
      } catch (err) {
        return sendError(reply, err);
      }
    };

  for (const def of RESOURCES) {
    if (def.store === 'conference' || skip.has(def.name)) continue;
    const path = `${BASE}/${def.name}/`;
    const area = () => def.permission;
    app.get(
      `${path}schema/`,
      handle(area, async () => schemaOf(def)),
    );
    if (def.singleton) {
      app.get(
        path,
        handle(area, async (req, _r, d) => listEnvelope(path, req.query as Record<string, string>, 20, 0, 1, [toApi(def, await getSingletonRecord(d, def))])),
      );
      app.get(
        `${path}:id/`,
        handle(area, async (req, _r, d) => {
          if (parseId(req) !== 1) throw AppError.notFound(def.label);
          return toApi(def, await getSingletonRecord(d, def));
        }),
      );
      const patch = handle(area, async (req, reply, d) => {
        if (parseId(req) !== 1) throw AppError.notFound(def.label);
        await updateSingletonRecord(d, def, fromApi(def, req.body));
        return reply.code(202).send();
      });
      app.patch(`${path}:id/`, patch);
      app.put(`${path}:id/`, patch);
      continue;
    }
    app.get(
      path,
      handle(area, async (req, _r, d) => {
        const q = req.query;
        const { limit, offset } = paging(q);
        const equals: Record<string, string> = {};
        for (const [k, v] of Object.entries(q)) {
          const f = Object.hasOwn(def.fields, k) ? def.fields[k]! : undefined;
          if (v !== undefined && f && !isWriteOnly(f) && f.type !== 'ref' && f.type !== 'refList') equals[k] = filterValue(k, f, v);
        }
        const search = q[`${def.nameField ?? 'name'}__icontains`] ?? q.name__icontains;
        const r = await listRecords(d, def, { search, limit, offset, orderBy: ORDERABLE(def, q.order_by), equals });
        return listEnvelope(
          path,
          q as Record<string, string>,
          limit,
          offset,
          r.total,
          r.items.map((o) => toApi(def, o)),
        );
      }),
    );
    app.get(
      `${path}:id/`,
      handle(area, async (req, _r, d) => toApi(def, await getRecord(d, def, parseId(req)))),
    );
    app.post(
      path,
      handle(area, async (req, reply, d) => {
        const o = await createRecord(d, def, fromApi(def, req.body));
        return reply.code(201).header('Location', uri(def.name, o.id)).send(toApi(def, o));
      }),
    );
    const patch = handle(area, async (req, reply, d) => {
      await updateRecord(d, def, parseId(req), fromApi(def, req.body));
      return reply.code(202).send();
    });
    app.patch(`${path}:id/`, patch);
    app.put(`${path}:id/`, patch);
    app.delete(
      `${path}:id/`,
      handle(area, async (req, reply, d) => {
        await deleteObject(d, def.name, parseId(req));
        return reply.code(204).send();
      }),
    );
  }

  registerServiceRoutes(app, dom, handle);
}

/** `conference`: every service type behind one resource, told apart by `service_type`. */
function registerServiceRoutes(
  app: FastifyInstance,
  dom: Domain,
  handle: (
    area: (req: Req) => ResourceDef['permission'],
    fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>,
  ) => (req: Req, reply: FastifyReply) => Promise<unknown>,
): void {
  const path = `${BASE}/conference/`;
  const vmrArea = () => 'vmr' as const;
  const defOf = (serviceType: unknown): ResourceDef => {
    const def = SERVICE_BY_TYPE.get(typeof serviceType === 'string' ? serviceType : 'conference');
    if (!def) throw AppError.validation({ service_type: [`Select a valid choice. ${String(serviceType)} is not one of the available choices.`] });
    return def;
  };
  const typeOfId = (d: Domain, id: number): Promise<ResourceDef> => serviceDefOf(d, id);

  app.get(
    `${path}schema/`,
    handle(vmrArea, async () => schemaOf(defOf('conference'))),
  );
  app.get(
    path,
    handle(vmrArea, async (req, _r, d) => {
      const q = req.query;
      const { limit, offset } = paging(q);
      const order = orderBy(q.order_by, (key) => key === 'name' || key === 'id') ?? 'id';
      const equals = q.name !== undefined ? { name: q.name } : undefined;
      if (q.service_type !== undefined) {
        const def = SERVICE_BY_TYPE.get(q.service_type);
        if (!def) return listEnvelope(path, q as Record<string, string>, limit, offset, 0, []);
        const r = await listRecords(d, def, { search: q.name__icontains, limit, offset, orderBy: order, equals });
        return listEnvelope(
          path,
          q as Record<string, string>,
          limit,
          offset,
          r.total,
          r.items.map((o) => toApi(def, o, 'conference')),
        );
      }
      // All service types in one page, each object read through its type's definition.
      const r = await listServices(d, { limit, offset, orderBy: order, equals, contains: q.name__icontains ? { name: q.name__icontains } : undefined });
      const objects = r.items.map((o) => toApi(o.def, o.record, 'conference'));
      return listEnvelope(path, q as Record<string, string>, limit, offset, r.total, objects);
    }),
  );
  app.get(
    `${path}:id/`,
    handle(vmrArea, async (req, _r, d) => {
      const def = await typeOfId(d, parseId(req));
      return toApi(def, await getRecord(d, def, parseId(req)), 'conference');
    }),
  );
  app.post(
    path,
    handle(vmrArea, async (req, reply, d) => {
      const def = defOf((req.body as { service_type?: unknown } | null)?.service_type ?? 'conference');
      const o = await createRecord(d, def, fromApi(def, req.body));
      return reply
        .code(201)
        .header('Location', uri('conference', o.id))
        .send(toApi(def, o, 'conference'));
    }),
  );
  const patch = handle(vmrArea, async (req, reply, d) => {
    const id = parseId(req);
    const def = await typeOfId(d, id);
    const st = (req.body as { service_type?: unknown } | null)?.service_type;
    if (st !== undefined && st !== def.serviceType) throw AppError.validation({ service_type: ['The service type of an existing service cannot be changed.'] });
    await updateRecord(d, def, id, fromApi(def, req.body));
    return reply.code(202).send();
  });
  app.patch(`${path}:id/`, patch);
  app.put(`${path}:id/`, patch);
  app.delete(
    `${path}:id/`,
    handle(vmrArea, async (req, reply, d) => {
      const id = parseId(req);
      const def = await typeOfId(d, id);
      await deleteObject(d, def.name, id);
      return reply.code(204).send();
    }),
  );
}
