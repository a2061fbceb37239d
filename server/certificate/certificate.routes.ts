import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { actionOf, requireApiPermission } from '../rest/basicAuth.js';
import { idFromUri, listEnvelope, paging, pexipTime, sendError } from '../rest/tastypie.js';
import {
  createCaCertificates,
  createTlsCertificate,
  deleteCaCertificate,
  deleteTlsCertificate,
  getCaCertificate,
  getTlsCertificate,
  listCaCertificates,
  listTlsCertificates,
  updateCaCertificate,
  updateTlsCertificate,
  type CaCertificate,
  type TlsCertificate,
} from './certificate.service.js';

const BASE = '/api/admin/configuration/v1';
const uri = (resource: string, id: number) => `${BASE}/${resource}/${id}/`;

type Q = Record<string, string | undefined>;
type Req = FastifyRequest<{ Params: { id?: string }; Querystring: Q; Body: unknown }>;

/** The fields both resources share, in the API's shape (dates naive UTC with microseconds). */
function common(c: TlsCertificate | CaCertificate) {
  return {
    id: c.id,
    certificate: c.certificate,
    start_date: pexipTime(c.start_date),
    end_date: pexipTime(c.end_date),
    subject_name: c.subject_name,
    subject_hash: c.subject_hash,
    raw_subject: c.raw_subject,
    issuer_name: c.issuer_name,
    issuer_hash: c.issuer_hash,
    raw_issuer: c.raw_issuer,
    serial_no: c.serial_no,
    key_id: c.key_id,
    issuer_key_id: c.issuer_key_id,
    text: c.text,
  };
}

/** `private_key` and `private_key_passphrase` are write-only: never in a response. */
const tlsObject = (c: TlsCertificate) => ({
  ...common(c),
  subject_alt_names: c.subject_alt_names,
  parameters: c.parameters,
  nodes: c.nodes.map((n) => uri('worker_vm', n)),
  resource_uri: uri('tls_certificate', c.id),
});

const caObject = (c: CaCertificate) => ({ ...common(c), trusted_intermediate: c.trusted_intermediate, resource_uri: uri('ca_certificate', c.id) });

/** `nodes` as worker_vm URIs (or bare ids) → node ids. */
function tlsInput(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = { ...(body as Record<string, unknown>) };
  if (b.nodes === null) b.nodes = [];
  if (Array.isArray(b.nodes)) {
    const bad: string[] = [];
    b.nodes = b.nodes.map((n) => {
      const id = idFromUri(n, 'worker_vm');
      if (id === null) bad.push(`Select a valid choice. ${String(n)} is not one of the available choices.`);
      return id;
    });
    if (bad.length) throw AppError.validation({ nodes: bad });
  }
  return b;
}

function parseId(req: Req): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw AppError.notFound('Object');
  return id;
}

function page<T>(path: string, req: Req, all: T[]) {
  const { limit, offset } = paging(req.query);
  return listEnvelope(path, req.query as Record<string, string>, limit, offset, all.length, all.slice(offset, offset + limit));
}

/** Management API: `tls_certificate` and `ca_certificate` (Platform > TLS Certificates / Trusted CA Certificates). */
export function registerCertificateRoutes(app: FastifyInstance, dom: Domain): void {
  const handle = (fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>) => async (req: Req, reply: FastifyReply) => {
    const admin = await requireApiPermission(dom.db, req, reply, 'system', actionOf(req.method));
    if (!admin) return reply;
    try {
      // Changes made through the API are logged under the API user's name.
      return await fn(req, reply, { ...dom, actor: admin.username });
    } catch (err) {
      return sendError(reply, err);
    }
  };
  const search = (q: Q) => q.subject_name__icontains ?? q.subject_name;

  // tls_certificate
  const TLS = `${BASE}/tls_certificate/`;
  app.get(
    TLS,
    handle(async (req, _reply, d) => {
      const all = await listTlsCertificates(d, { search: search(req.query) });
      return page(TLS, req, all.map(tlsObject));
    }),
  );
  app.get(
    `${TLS}:id/`,
    handle(async (req, _reply, d) => tlsObject(await getTlsCertificate(d, parseId(req)))),
  );
  app.post(
    TLS,
    handle(async (req, reply, d) => {
      const c = await createTlsCertificate(d, tlsInput(req.body));
      return reply.code(201).header('Location', uri('tls_certificate', c.id)).send(tlsObject(c));
    }),
  );
  const patchTls = handle(async (req, reply, d) => {
    await updateTlsCertificate(d, parseId(req), tlsInput(req.body));
    return reply.code(202).send();
  });
  app.patch(`${TLS}:id/`, patchTls);
  app.put(`${TLS}:id/`, patchTls);
  app.delete(
    `${TLS}:id/`,
    handle(async (req, reply, d) => {
      await deleteTlsCertificate(d, parseId(req));
      return reply.code(204).send();
    }),
  );

  // ca_certificate: a POST with several concatenated certificates adds one object each; Location names the first.
  const CA = `${BASE}/ca_certificate/`;
  app.get(
    CA,
    handle(async (req, _reply, d) => {
      const all = await listCaCertificates(d, { search: search(req.query) });
      return page(CA, req, all.map(caObject));
    }),
  );
  app.get(
    `${CA}:id/`,
    handle(async (req, _reply, d) => caObject(await getCaCertificate(d, parseId(req)))),
  );
  app.post(
    CA,
    handle(async (req, reply, d) => {
      const created = await createCaCertificates(d, req.body);
      return reply.code(201).header('Location', uri('ca_certificate', created[0]!.id)).send(caObject(created[0]!));
    }),
  );
  const patchCa = handle(async (req, reply, d) => {
    await updateCaCertificate(d, parseId(req), req.body);
    return reply.code(202).send();
  });
  app.patch(`${CA}:id/`, patchCa);
  app.put(`${CA}:id/`, patchCa);
  app.delete(
    `${CA}:id/`,
    handle(async (req, reply, d) => {
      await deleteCaCertificate(d, parseId(req));
      return reply.code(204).send();
    }),
  );
}
