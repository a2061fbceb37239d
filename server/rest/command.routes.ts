import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CommandError } from '../command/CommandError.js';
import { CommandDispatcher } from '../command/CommandDispatcher.js';
import {
  CONFERENCE_COMMANDS,
  conferenceCommand,
  conferenceCommandBody,
  conferenceLayoutBody,
  dialCommand,
  PARTICIPANT_COMMANDS,
  participantCommand,
  participantCommandBody,
  participantDialBody,
  participantRoleBody,
  participantTransferBody,
  type CommandContext,
} from '../command/command.service.js';
import { fromGoLegacy, forwardCommand } from '../command/goLegacy.js';
import { createSnapshot, snapshotBody } from '../command/snapshot.service.js';
import type { Domain } from '../domain.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import type { SupportLog } from '../supportLog/SupportLog.js';
import { allows, ACCESS_DENIED } from '../../shared/admin/permissions.js';
import { requireApiPermission } from './basicAuth.js';

export const COMMAND_BASE = '/api/admin/command/v1';

/** Pexip's 400 body: an `error` string and the fields' messages (management-api.md §11). */
function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) (fields[issue.path.join('.') || 'body'] ??= []).push(issue.message);
  return reply.code(400).send({ status: 'error', error: error.issues[0]?.message ?? 'Invalid request.', ...fields });
}

function failed(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof CommandError) return reply.code(err.httpStatus).send({ status: 'error', error: err.message });
  throw err;
}

/**
 * `command/v1/participant/…` and `command/v1/conference/…` (management-api.md §9): an administrator
 * acts on what the status API lists (its ids), carried out by the node hosting it. Basic auth and
 * "May modify conference status", as lifting a break-in block.
 */
export function registerCommandRoutes(app: FastifyInstance, dom: Domain, status: LiveStatus, registry: NodeRegistry, supportLog?: SupportLog): void {
  const dispatcher = CommandDispatcher.for(registry);
  const handle = <S extends z.ZodType>(path: string, schema: S, run: (ctx: CommandContext, body: z.infer<S>) => Promise<unknown>) =>
    app.post(`${COMMAND_BASE}/${path}/`, async (req: FastifyRequest, reply: FastifyReply) => {
      const admin = await requireApiPermission(dom.db, req, reply, 'status', 'modify');
      if (!admin) return reply;
      const legacy = await fromGoLegacy(dom, status, path, req.body ?? {});
      if ('error' in legacy) return reply.code(400).send({ status: 'error', error: legacy.error });
      if (legacy.path !== path) return forwardCommand(app, COMMAND_BASE, req, reply, legacy.path, legacy.body);
      const body = schema.safeParse(legacy.body);
      if (!body.success) return badRequest(reply, body.error);
      try {
        const data = await run({ dom: { ...dom, actor: admin.username }, status, dispatcher }, body.data);
        return { status: 'success', data: data ?? null };
      } catch (err) {
        return failed(reply, err);
      }
    });

  for (const action of PARTICIPANT_COMMANDS)
    handle(`participant/${action}`, participantCommandBody, (ctx, b) => participantCommand(ctx, b.participant_id, { action }));
  handle('participant/role', participantRoleBody, (ctx, b) => participantCommand(ctx, b.participant_id, { action: 'role', role: b.role }));
  handle('participant/transfer', participantTransferBody, (ctx, b) =>
    participantCommand(ctx, b.participant_id, {
      action: 'transfer',
      conference_alias: b.conference_alias,
      role: b.role,
      ...(b.pin !== undefined ? { pin: b.pin } : {}),
    }),
  );
  handle('participant/dial', participantDialBody, dialCommand);
  for (const action of CONFERENCE_COMMANDS)
    handle(`conference/${action}`, conferenceCommandBody, (ctx, b) => conferenceCommand(ctx, b.conference_id, { action }));
  // The go client's legacy paths (goLegacy.ts): a spotlight `setting`, and stop for disconnect.
  handle('participant/spotlight', participantCommandBody, (ctx, b) => participantCommand(ctx, b.participant_id, { action: 'spotlighton' }));
  handle('conference/stop', conferenceCommandBody, (ctx, b) => conferenceCommand(ctx, b.conference_id, { action: 'disconnect' }));
  handle('conference/transform_layout', conferenceLayoutBody, (ctx, b) => {
    const { conference_id, transforms, ...flat } = b;
    return conferenceCommand(ctx, conference_id, { action: 'transform_layout', transforms: { ...flat, ...transforms } });
  });

  // A diagnostic snapshot holds the configuration and the administrator log: it needs both views.
  const snapshot = async (req: FastifyRequest, reply: FastifyReply) => {
    const admin = await requireApiPermission(dom.db, req, reply, 'system', 'view');
    if (!admin) return reply;
    if (!allows(admin.permissions, 'logs', 'view')) return reply.code(403).send({ error: ACCESS_DENIED });
    const body = snapshotBody.safeParse(req.body ?? {});
    if (!body.success) return badRequest(reply, body.error);
    const metrics = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const { fileName, archive } = await createSnapshot({ ...dom, actor: admin.username }, status, registry, body.data, metrics, supportLog);
    return reply
      .header('content-type', 'application/zip')
      .header('content-disposition', `attachment; filename="${fileName}"`)
      .send(Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength));
  };
  app.post(`${COMMAND_BASE}/platform/snapshot/`, snapshot);
  // The go client's path for it (management-api.md §11: aliasing is cheap).
  app.post(`${COMMAND_BASE}/snapshot/`, snapshot);
}
