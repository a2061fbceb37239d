import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { requireApiPermission } from '../rest/basicAuth.js';
import { sendError } from '../rest/tastypie.js';
import { bulkPermission, exportCsv, MAX_CSV_LENGTH } from './bulk.service.js';
import { importCsv } from './csvImport.js';
import { CSV_KINDS, type CsvKind } from './csvFormat.js';

const BASE = '/api/admin/configuration/v1/bulk';

type Req = FastifyRequest<{ Params: { kind: string }; Body: unknown }>;

function kindOf(req: Req, reply: FastifyReply): CsvKind | null {
  const k = req.params.kind as CsvKind;
  if (CSV_KINDS.includes(k)) return k;
  void reply.code(404).send({ error: `Unknown import kind "${req.params.kind}"; one of ${CSV_KINDS.join(', ')}.` });
  return null;
}

/**
 * The management API's bulk CSV endpoints: POST …/bulk/<kind>/import/ with the file as the body
 * (text/csv, or JSON `{"csv": "…"}`) → 200 {created, updated} or 400 {file: [messages]};
 * GET …/bulk/<kind>/export/ → the CSV as an attachment.
 */
export function registerBulkRoutes(app: FastifyInstance, dom: Domain): void {
  // Own scope: the text/csv parser and the larger body limit apply to these routes only.
  void app.register(async (scope) => {
    const bodyLimit = MAX_CSV_LENGTH * 4 + 1024; // UTF-8 worst case; the length check below is in characters
    scope.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

    scope.post(`${BASE}/:kind/import/`, { bodyLimit }, async (req: Req, reply) => {
      const kind = kindOf(req, reply);
      if (!kind) return reply;
      const admin = await requireApiPermission(dom.db, req, reply, ...bulkPermission(kind, true));
      if (!admin) return reply;
      const body = req.body;
      const csv =
        typeof body === 'string'
          ? body
          : body && typeof body === 'object' && typeof (body as { csv?: unknown }).csv === 'string'
            ? (body as { csv: string }).csv
            : null;
      try {
        if (csv === null) throw AppError.validation({ file: ['Send the CSV file as the request body (text/csv) or as JSON {"csv": "…"}.'] });
        if (csv.length > MAX_CSV_LENGTH) throw AppError.validation({ file: ['The file is too large (at most 20 MB).'] });
        return reply.code(200).send(await importCsv({ ...dom, actor: admin.username }, kind, csv));
      } catch (err) {
        return sendError(reply, err);
      }
    });

    scope.get(`${BASE}/:kind/export/`, async (req: Req, reply) => {
      const kind = kindOf(req, reply);
      if (!kind) return reply;
      const admin = await requireApiPermission(dom.db, req, reply, ...bulkPermission(kind, false));
      if (!admin) return reply;
      try {
        const csv = await exportCsv(dom, kind);
        return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${kind}.csv"`).send(csv);
      } catch (err) {
        return sendError(reply, err);
      }
    });
  });
}
