import { eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { conference } from '../../db/schema.js';
import { listAliases } from '../conference/alias.service.js';
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';

/**
 * The legacy command bodies of Pexip's go client (go-infinity-sdk `command/*_legacy.go`, management-api.md §9):
 * `participant_uuid` for `participant_id`, a `setting` choosing the action (`participant/mute/` with
 * mute | unmute | toggle, `participant/spotlight/` with on | off | toggle, `conference/lock/` with lock | unlock | toggle),
 * a conference named by its configuration id (an integer) rather than its status id, and
 * `conference/stop/` for `conference/disconnect/`, `conference/start/` by `conference_alias`. Each is turned into the current command it means.
 */
export type LegacyRewrite = { path: string; body: unknown } | { error: string };

const SETTINGS: Record<string, { values: readonly [string, ...string[]]; to: (setting: string, on: boolean | undefined) => string }> = {
  'participant/mute': {
    values: ['mute', 'unmute', 'toggle'],
    to: (s, muted) => (s === 'unmute' || (s === 'toggle' && muted) ? 'participant/unmute' : 'participant/mute'),
  },
  'participant/spotlight': {
    values: ['on', 'off', 'toggle'],
    to: (s, lit) => (s === 'off' || (s === 'toggle' && lit) ? 'participant/spotlightoff' : 'participant/spotlighton'),
  },
  'conference/lock': {
    values: ['lock', 'unlock', 'toggle'],
    to: (s, locked) => (s === 'unlock' || (s === 'toggle' && locked) ? 'conference/unlock' : 'conference/lock'),
  },
};

const configurationId = z.number().int().positive();

export async function fromGoLegacy(dom: Domain, status: LiveStatus, path: string, raw: unknown): Promise<LegacyRewrite> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { path, body: raw };
  const body: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (body.participant_id === undefined && body.participant_uuid !== undefined) body.participant_id = body.participant_uuid;
  delete body.participant_uuid;
  if (path.startsWith('conference/') && configurationId.safeParse(body.conference_id).success) {
    // A service's configuration id: the conference live under that service's name (the status API takes either).
    const [service] = await dom.db
      .select({ name: conference.name })
      .from(conference)
      .where(eq(conference.id, body.conference_id as number));
    body.conference_id = service?.name ?? String(body.conference_id);
  }
  if (path === 'conference/start' && body.conference_id === undefined && typeof body.conference_alias === 'string') {
    // Started by one of its aliases: the conference live under that service's name.
    const { items } = await listAliases(dom, { alias: body.conference_alias, limit: 1 });
    const [service] = items[0] ? await dom.db.select({ name: conference.name }).from(conference).where(eq(conference.id, items[0].conference_id)) : [];
    body.conference_id = service?.name ?? body.conference_alias;
  }
  let to = path === 'conference/stop' ? 'conference/disconnect' : path;
  const rule = SETTINGS[path];
  if (rule && (body.setting !== undefined || path === 'participant/spotlight')) {
    const setting = z.enum(rule.values).safeParse(body.setting ?? 'on');
    if (!setting.success) return { error: `setting must be ${rule.values.slice(0, -1).join(', ')} or ${rule.values.at(-1)!}.` };
    to = rule.to(setting.data, setting.data === 'toggle' ? stateNow(status, path, body) : undefined);
    delete body.setting;
  }
  return { path: to, body };
}

/** What a toggle flips: the participant's mute or spotlight, or the conference's lock, as the nodes last reported it. */
function stateNow(status: LiveStatus, path: string, body: Record<string, unknown>): boolean | undefined {
  if (path === 'conference/lock') return status.conferences().find((c) => c.id === body.conference_id || c.name === body.conference_id)?.isLocked;
  const p = status.participants().find((x) => x.id === body.participant_id);
  return path === 'participant/mute' ? p?.isMuted : p?.isSpotlighted;
}

/** Runs the current command a legacy request means, with the caller's own credentials, and answers what it answered. */
export async function forwardCommand(
  app: FastifyInstance,
  base: string,
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  body: unknown,
): Promise<FastifyReply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  if (req.headers.cookie) headers.cookie = req.headers.cookie;
  const res = await app.inject({ method: 'POST', url: `${base}/${path}/`, headers, payload: JSON.stringify(body) });
  return reply
    .code(res.statusCode)
    .header('content-type', res.headers['content-type'] ?? 'application/json')
    .send(res.body);
}
