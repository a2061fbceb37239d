import { Readable } from 'node:stream';
import { parse as parseCookie } from 'cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ACCESS_DENIED, allows, type PermissionAction } from '../../shared/admin/permissions.js';
import { THEME_UPLOAD_PATH, themeDownloadPath } from '../../shared/theme/theme.schema.js';
import { sessionAdmin } from '../auth/admin.service.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { sendError } from '../rest/tastypie.js';
import { SESSION_COOKIE } from '../trpc/trpc.js';
import { basePackage } from './baseTheme.js';
import { downloadTheme } from './theme.service.js';
import { ThemeUploads } from './ThemeUploads.js';

const idSchema = z.object({ id: z.coerce.number().int().positive() });

/** The signed-in administrator when they hold one of the theme permissions, else the answer has been sent. */
async function consoleAdmin(dom: Domain, req: FastifyRequest, reply: FastifyReply, actions: PermissionAction[]) {
  const admin = await sessionAdmin(dom, parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE]);
  if (!admin) {
    await reply.code(401).send({ error: 'Authentication credentials were not provided.' });
    return null;
  }
  if (!actions.some((a) => allows(admin.permissions, 'theme', a))) {
    await reply.code(403).send({ error: ACCESS_DENIED });
    return null;
  }
  return admin;
}

const attachment = (reply: FastifyReply, fileName: string, size: number) =>
  reply.type('application/zip').header('Content-Disposition', `attachment; filename="${fileName}"`).header('Content-Length', size);

/**
 * The console's theme files over plain HTTP rather than tRPC's JSON, so a ZIP is never held whole
 * in the server's memory: the upload (the raw file, spooled to disk and checked as it arrives,
 * then named by id in theme.create / theme.update) and the downloads (streamed from the stored parts).
 */
export function registerThemeConsoleRoutes(app: FastifyInstance, dom: Domain): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post(THEME_UPLOAD_PATH, async (req, reply) => {
      // A page on another origin cannot send this header without a CORS preflight we never answer.
      if (req.headers['x-requested-with'] !== 'openmeet-console') return reply.code(403).send({ error: 'Cross-origin request refused.' });
      const admin = await consoleAdmin(dom, req, reply, ['add_remove', 'modify']);
      if (!admin) return reply;
      if (!(req.body instanceof Readable)) return reply.code(415).send({ error: 'Send the file as application/octet-stream.' });
      try {
        return await ThemeUploads.of(dom.db).receive(admin.username, req.body);
      } catch (err) {
        return sendError(reply, err);
      }
    });

    scope.get(themeDownloadPath('base'), async (req, reply) => {
      if (!(await consoleAdmin(dom, req, reply, ['view']))) return reply;
      const base = basePackage();
      return attachment(reply, 'base_theme.zip', base.length).send(Buffer.from(base.buffer, base.byteOffset, base.byteLength));
    });
    scope.get('/download/theme/:id/', async (req, reply) => {
      if (!(await consoleAdmin(dom, req, reply, ['view']))) return reply;
      try {
        const p = idSchema.safeParse(req.params);
        if (!p.success) throw AppError.notFound('Theme');
        const t = await downloadTheme(dom, p.data.id);
        return attachment(reply, t.fileName, t.size).header('ETag', `"${t.sha256}"`).send(t.stream());
      } catch (err) {
        return sendError(reply, err);
      }
    });
  });
}
