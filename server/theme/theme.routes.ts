import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_THEME_PACKAGE_BYTES, type Theme } from '../../shared/theme/theme.schema.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { actionOf, requireApiPermission } from '../rest/basicAuth.js';
import { listEnvelope, paging, pexipTime, sendError } from '../rest/tastypie.js';
import { ThemeZipStreamCheck } from './ThemeZipStreamCheck.js';
import { registerThemeConsoleRoutes } from './themeConsole.routes.js';
import { createTheme, deleteTheme, downloadTheme, getTheme, listThemes, updateTheme } from './theme.service.js';
import { discardSpool, spoolStream, type SpooledPackage } from './themeStorage.js';

const RESOURCE = '/api/admin/configuration/v1/ivr_theme/';
const uri = (id: number) => `${RESOURCE}${id}/`;
const TOO_LARGE = `The theme ZIP file must be no larger than ${MAX_THEME_PACKAGE_BYTES / 1024 / 1024} MB.`;

type Q = Record<string, string | undefined>;
type ThemeInput = { name?: unknown; description?: unknown; package?: SpooledPackage };
type Req = FastifyRequest<{ Params: { id?: string }; Querystring: Q; Body: unknown }>;

/** The management API's `ivr_theme` object; `package` is where the ZIP can be downloaded. */
function themeObject(t: Theme) {
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    uuid: t.uuid,
    package: `${uri(t.id)}package/`,
    creation_time: pexipTime(t.creation_time),
    last_updated: pexipTime(t.last_updated),
    resource_uri: uri(t.id),
  };
}

function parseId(req: Req): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw AppError.notFound('Theme');
  return id;
}

/**
 * Writes an uploaded ZIP to a spool file as it arrives, checking it on the way (a ZIP bomb is
 * refused before the rest is read), so the upload is never held in memory; it is then checked and
 * stored from the file a part at a time.
 */
async function spoolPackage(file: Readable): Promise<SpooledPackage> {
  const check = new ThemeZipStreamCheck();
  const pkg = await spoolStream(file, (chunk) => check.push(chunk));
  // @fastify/multipart ends the stream (without an error) when the size limit is passed.
  if ((file as Readable & { truncated?: boolean }).truncated) {
    await discardSpool(pkg);
    throw AppError.validation({ package: [TOO_LARGE] });
  }
  return pkg;
}

/**
 * The request's fields: multipart/form-data (fields plus the file field `package`, as Pexip's API
 * takes theme uploads) or, for changes without a new ZIP, a JSON body.
 */
async function themeInput(req: Req): Promise<ThemeInput> {
  if (!req.isMultipart()) {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
    const { name, description } = body as Record<string, unknown>;
    return { name, description };
  }
  const out: ThemeInput = {};
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'package') {
          part.file.resume(); // other files are not ours: drained, not kept
          continue;
        }
        await discardSpool(out.package); // a second file field: the last one counts
        out.package = await spoolPackage(part.file);
      } else if (part.fieldname === 'name' || part.fieldname === 'description') {
        out[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    await discardSpool(out.package);
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw AppError.validation({ package: [TOO_LARGE] });
    if (code?.startsWith('FST_')) throw AppError.validation({ package: [(err as Error).message] });
    throw err;
  }
  return out;
}

/**
 * Management REST API for themes (`ivr_theme`): Tastypie list envelope, 201 + Location on POST,
 * 202 on PATCH, 204 on DELETE, and the theme's ZIP at `<id>/package/`. Multipart parsing is
 * registered in this plugin's own scope so no other route accepts uploads.
 */
export function registerThemeRoutes(app: FastifyInstance, dom: Domain): void {
  registerThemeConsoleRoutes(app, dom);
  app.register(async (scope) => {
    // A little headroom over the package limit, so our own message (not the parser's) reports it.
    await scope.register(multipart, { limits: { fileSize: MAX_THEME_PACKAGE_BYTES + 1, files: 1, fields: 10, parts: 12 } });

    const handle = (fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>) => async (req: Req, reply: FastifyReply) => {
      const admin = await requireApiPermission(dom.db, req, reply, 'theme', actionOf(req.method));
      if (!admin) return reply;
      try {
        // Changes made through the API are logged under the API user's name.
        return await fn(req, reply, { ...dom, actor: admin.username });
      } catch (err) {
        return sendError(reply, err);
      }
    };

    scope.get(
      RESOURCE,
      handle(async (req, _reply, d) => {
        const q = req.query;
        const { limit, offset } = paging(q);
        const order = q.order_by === 'name' || q.order_by === '-name' || q.order_by === 'id' || q.order_by === '-id' ? q.order_by : 'id';
        const r = await listThemes(d, { name: q.name, search: q.name__icontains, limit, offset, orderBy: order });
        return listEnvelope(RESOURCE, q as Record<string, string>, limit, offset, r.total, r.items.map(themeObject));
      }),
    );
    scope.get(
      `${RESOURCE}:id/`,
      handle(async (req, _reply, d) => themeObject(await getTheme(d, parseId(req)))),
    );
    scope.get(
      `${RESOURCE}:id/package/`,
      handle(async (req, reply, d) => {
        const { fileName, size, stream } = await downloadTheme(d, parseId(req));
        return reply.type('application/zip').header('Content-Disposition', `attachment; filename="${fileName}"`).header('Content-Length', size).send(stream());
      }),
    );
    scope.post(
      RESOURCE,
      handle(async (req, reply, d) => {
        const input = await themeInput(req);
        const t = await createTheme(d, input).finally(() => discardSpool(input.package));
        return reply.code(201).header('Location', uri(t.id)).send(themeObject(t));
      }),
    );
    const patch = handle(async (req, reply, d) => {
      const id = parseId(req);
      await getTheme(d, id); // 404 before reading an upload for a theme that does not exist
      const input = await themeInput(req);
      await updateTheme(d, id, input).finally(() => discardSpool(input.package));
      return reply.code(202).send();
    });
    scope.patch(`${RESOURCE}:id/`, patch);
    scope.put(`${RESOURCE}:id/`, patch);
    scope.delete(
      `${RESOURCE}:id/`,
      handle(async (req, reply, d) => {
        await deleteTheme(d, parseId(req));
        return reply.code(204).send();
      }),
    );
  });
}
