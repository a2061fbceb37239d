import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseCookie } from 'cookie';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BACKUP_MESSAGES, RESTORE_UPLOAD_PATH, type BackupFile, type BackupSummary } from '../../shared/backup/backup.schema.js';
import { ACCESS_DENIED, allows } from '../../shared/admin/permissions.js';
import { sessionAdmin } from '../auth/admin.service.js';
import { SESSION_COOKIE } from '../trpc/trpc.js';
import type { PermissionAction, PermissionArea } from '../../shared/admin/permissions.js';
import type { Domain } from '../domain.js';
import { AppError, HTTP_STATUS } from '../errors/AppError.js';
import { actionOf, requireApiPermission } from '../rest/basicAuth.js';
import { RESTORE_BODY_LIMIT } from '../rest/bodyLimits.js';
import { listEnvelope, paging, pexipTime } from '../rest/tastypie.js';
import { createBackup, deleteBackup, downloadBackup, getBackup, isBackupKind, listBackups } from './backup.service.js';
import { RestoreJobs } from './RestoreJobs.js';
import { RestoreUploads, tooLarge } from './RestoreUploads.js';

const CONFIG = '/api/admin/configuration/v1';
const COMMAND = '/api/admin/command/v1/platform';
/** `backup` is ours; `system_backup` is the resource name Pexip's schema lists. */
const RESOURCES = ['backup', 'system_backup'] as const;

type Req = FastifyRequest<{ Params: { id?: string }; Querystring: Record<string, string | undefined>; Body: unknown }>;

const backupObject = (resource: string, b: BackupFile) => ({
  id: b.id,
  kind: b.kind,
  file_name: b.file_name,
  version: b.version,
  size: b.size,
  created_at: pexipTime(b.created_at),
  download_uri: `${CONFIG}/${resource}/${b.id}/download/`,
  resource_uri: `${CONFIG}/${resource}/${b.id}/`,
});

function parseId(req: Req): number {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id <= 0) throw AppError.notFound('Backup file');
  return id;
}

const body = (req: Req): Record<string, unknown> => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** 400 {field: [messages], error}: field errors for scripts, and the guide's sentence for people. */
function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (!(err instanceof AppError)) throw err;
  const payload = err.fields ? { ...err.fields, ...(err.message !== 'Validation failed' ? { error: err.message } : {}) } : { error: err.message };
  return reply.code(HTTP_STATUS[err.code]).send(payload);
}

/**
 * Utilities > Backup/Restore over the management API: backup files as a configuration resource
 * (list, create, download, delete) and the restore command.
 */
export function registerBackupRoutes(app: FastifyInstance, dom: Domain): void {
  const handle =
    (fn: (req: Req, reply: FastifyReply, d: Domain) => Promise<unknown>, action?: PermissionAction, also?: [PermissionArea, PermissionAction]) =>
    async (req: Req, reply: FastifyReply) => {
      const admin = await requireApiPermission(dom.db, req, reply, 'system', action ?? actionOf(req.method));
      if (!admin) return reply;
      if (also && !(await requireApiPermission(dom.db, req, reply, also[0], also[1]))) return reply;
      try {
        return await fn(req, reply, { ...dom, actor: admin.username });
      } catch (err) {
        return sendError(reply, err);
      }
    };

  for (const resource of RESOURCES) {
    const base = `${CONFIG}/${resource}`;
    app.get(
      `${base}/`,
      handle(async (req, _reply, d) => {
        const { limit, offset } = paging(req.query);
        const all = await listBackups(d, { kind: isBackupKind(req.query.kind) ? req.query.kind : undefined });
        return listEnvelope(
          `${base}/`,
          req.query as Record<string, string>,
          limit,
          offset,
          all.length,
          all.slice(offset, offset + limit).map((b) => backupObject(resource, b)),
        );
      }),
    );
    app.get(
      `${base}/:id/`,
      handle(async (req, _reply, d) => backupObject(resource, await getBackup(d, parseId(req)))),
    );
    app.post(
      `${base}/`,
      handle(async (req, reply, d) => {
        const b = body(req);
        const file = await createBackup(d, {
          passphrase: str(b.passphrase),
          passphrase_confirm: typeof b.passphrase_confirm === 'string' ? b.passphrase_confirm : undefined,
        });
        return reply.code(201).header('Location', `${base}/${file.id}/`).send(backupObject(resource, file));
      }),
    );
    // The file holds every account's password hash: downloading it needs "May modify system configuration".
    app.get(
      `${base}/:id/download/`,
      handle(async (req, reply, d) => {
        const { fileName, archive } = await downloadBackup(d, parseId(req));
        return reply
          .type('application/octet-stream')
          .header('Content-Disposition', `attachment; filename="${fileName}"`)
          .header('Content-Length', String(archive.length))
          .send(archive);
      }, 'modify'),
    );
    app.delete(
      `${base}/:id/`,
      handle(async (req, reply, d) => {
        await deleteBackup(d, parseId(req));
        return reply.code(204).send();
      }),
    );
  }

  // Command API: platform/backup_create (Pexip's name) and the restore (ours and Pexip's `backup_restore`).
  app.post(
    `${COMMAND}/backup_create/`,
    handle(async (req, reply, d) => {
      const file = await createBackup(d, { passphrase: str(body(req).passphrase) });
      return reply.code(200).send({ status: 'success', message: BACKUP_MESSAGES.created(file.file_name), data: backupObject('backup', file) });
    }),
  );
  // A restore replaces the administrator accounts and roles too, so it also needs authentication rights.
  // It runs as a restore job (one at a time, other requests served meanwhile); the answer waits for it.
  const restore = handle(
    async (req, reply, d) => {
      const upload = req.isMultipart() ? await receiveRestoreUpload(req) : null;
      const cleanup = async () => {
        // Removed once the restore is over: nothing of the upload outlives it.
        if (upload) await rm(upload.dir, { recursive: true, force: true });
      };
      let done: Promise<BackupSummary>;
      try {
        const b = body(req);
        const source = upload ? (upload.file ? { path: upload.file } : '') : str(b.archive ?? b.package);
        done = RestoreJobs.of(d.db).start(d, source, upload ? upload.passphrase : str(b.passphrase), cleanup).done;
      } catch (err) {
        await cleanup();
        throw err;
      }
      const summary = await done;
      return reply.code(202).send({ status: 'success', message: BACKUP_MESSAGES.restored, data: summary });
    },
    'add_remove',
    ['authentication', 'modify'],
  );
  // Own scope: only the restore commands take multipart uploads (Pexip's `package` file field).
  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: RESTORE_BODY_LIMIT, files: 1, fields: 5, parts: 6 } });
    scope.post(`${COMMAND}/restore/`, { bodyLimit: RESTORE_BODY_LIMIT }, restore);
    scope.post(`${COMMAND}/backup_restore/`, { bodyLimit: RESTORE_BODY_LIMIT }, restore);
  });

  registerRestoreUpload(app, dom);
}

/**
 * The console's upload of a backup file: the raw body, streamed to disk as it arrives; the
 * console then inspects and restores it by id over tRPC.
 */
function registerRestoreUpload(app: FastifyInstance, dom: Domain): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post(RESTORE_UPLOAD_PATH, { bodyLimit: RESTORE_BODY_LIMIT }, async (req, reply) => {
      // A page on another origin cannot send this header without a CORS preflight we never answer.
      if (req.headers['x-requested-with'] !== 'openmeet-console') return reply.code(403).send({ error: 'Cross-origin request refused.' });
      const admin = await sessionAdmin(dom, parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE]);
      if (!admin) return reply.code(401).send({ error: 'Authentication credentials were not provided.' });
      if (!allows(admin.permissions, 'system', 'add_remove') || !allows(admin.permissions, 'authentication', 'modify')) {
        return reply.code(403).send({ error: ACCESS_DENIED });
      }
      if (!(req.body instanceof Readable)) return reply.code(415).send({ error: 'Send the file as application/octet-stream.' });
      try {
        return await RestoreUploads.of(dom.db).receive(admin.username, req.body, RESTORE_BODY_LIMIT);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
          return reply.code(413).send({ ...tooLarge(RESTORE_BODY_LIMIT).fields, error: BACKUP_MESSAGES.restoreFailed });
        return sendError(reply, err);
      }
    });
  });
}

/**
 * A multipart restore (`package` or `archive` file, `passphrase` field): the file is streamed to a
 * private temporary folder as it arrives, not collected in memory, and removed after the restore.
 */
async function receiveRestoreUpload(req: Req): Promise<{ dir: string; file: string | null; passphrase: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'openmeet-restore-'));
  const out: { dir: string; file: string | null; passphrase: string } = { dir, file: null, passphrase: '' };
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const path = join(dir, 'archive');
        await pipeline(part.file, createWriteStream(path, { mode: 0o600 }));
        if (part.fieldname === 'package' || part.fieldname === 'archive') out.file = path;
      } else if (part.fieldname === 'passphrase') out.passphrase = String(part.value);
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw AppError.validation({ archive: [`The file is too large (at most ${RESTORE_BODY_LIMIT / 1024 / 1024} MB).`] });
    if (code?.startsWith('FST_')) throw AppError.validation({ archive: [(err as Error).message] });
    throw err;
  }
  return out;
}
