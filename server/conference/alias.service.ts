import { and, asc, count, eq, max } from 'drizzle-orm';
import { z } from 'zod';
import { conference, conferenceAlias } from '../../db/schema.js';
import { normaliseAlias } from '../../shared/alias/normalise.js';
import { ALIAS_MESSAGES, aliasInputSchema } from '../../shared/alias/alias.schema.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { AppError } from '../errors/AppError.js';
import { actorOf, guardUnique, type Domain } from '../domain.js';
import { recordChange } from '../audit/adminLog.service.js';

const RACE = { alias: ['This alias is already in use.'] };

/** A service alias as its own resource (`conference_alias`): each belongs to exactly one service. */
export interface ServiceAlias {
  id: number;
  alias: string;
  description: string;
  conference_id: number;
  creation_time: string;
}

export const aliasCreateSchema = aliasInputSchema.extend({ conference_id: z.number().int().positive('This field is required.') });
export const aliasPatchSchema = z.object({
  alias: aliasInputSchema.shape.alias.optional(),
  description: aliasInputSchema.shape.description.optional(),
  conference_id: z.number().int().positive().optional(),
});

type Row = typeof conferenceAlias.$inferSelect;
const toAlias = (r: Row): ServiceAlias => ({
  id: r.id,
  alias: r.alias,
  description: r.description,
  conference_id: r.conferenceId,
  creation_time: r.createdAt.toISOString(),
});

export async function listAliases(dom: Domain, q: { conferenceId?: number; alias?: string; offset?: number; limit?: number }) {
  const where = and(
    q.conferenceId === undefined ? undefined : eq(conferenceAlias.conferenceId, q.conferenceId),
    q.alias === undefined ? undefined : eq(conferenceAlias.normalised, normaliseAlias(q.alias)),
  );
  const [total] = await dom.db.select({ n: count() }).from(conferenceAlias).where(where);
  const rows = await dom.db
    .select()
    .from(conferenceAlias)
    .where(where)
    .orderBy(asc(conferenceAlias.id))
    .limit(Math.min(q.limit ?? 20, 10_000))
    .offset(q.offset ?? 0);
  return { total: total?.n ?? 0, items: rows.map(toAlias) };
}

export async function getAlias(dom: Domain, id: number): Promise<ServiceAlias> {
  const [row] = await dom.db.select().from(conferenceAlias).where(eq(conferenceAlias.id, id));
  if (!row) throw AppError.notFound('Alias');
  return toAlias(row);
}

async function check(dom: Domain, alias: string, conferenceId: number, ownId: number | null): Promise<void> {
  const errors: Record<string, string[]> = {};
  const [svc] = await dom.db.select({ id: conference.id }).from(conference).where(eq(conference.id, conferenceId));
  if (!svc) errors.conference = ['Select a valid service.'];
  const [held] = await dom.db
    .select({ id: conferenceAlias.id, service: conference.name })
    .from(conferenceAlias)
    .innerJoin(conference, eq(conference.id, conferenceAlias.conferenceId))
    .where(eq(conferenceAlias.normalised, normaliseAlias(alias)));
  if (held && held.id !== ownId) errors.alias = [ALIAS_MESSAGES.inUse(held.service)];
  if (Object.keys(errors).length) throw AppError.validation(errors);
}

export async function createAlias(dom: Domain, input: unknown): Promise<ServiceAlias> {
  const p = aliasCreateSchema.safeParse(input);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const { alias, description, conference_id } = p.data;
  const row = await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        await check({ ...dom, db: tx }, alias, conference_id, null);
        const [last] = await tx
          .select({ m: max(conferenceAlias.viewOrder) })
          .from(conferenceAlias)
          .where(eq(conferenceAlias.conferenceId, conference_id));
        const [r] = await tx
          .insert(conferenceAlias)
          .values({ alias, description, normalised: normaliseAlias(alias), conferenceId: conference_id, viewOrder: (last?.m ?? -1) + 1 })
          .returning();
        await recordChange(tx, actorOf(dom), {
          action: 'added',
          objectType: 'Alias',
          objectId: r!.id,
          objectName: alias,
          after: { alias, description, conference_id },
        });
        return r!;
      }),
    RACE,
  );
  dom.bus.notify('conference_alias');
  return toAlias(row);
}

export async function updateAlias(dom: Domain, id: number, patch: unknown): Promise<ServiceAlias> {
  const p = aliasPatchSchema.safeParse(patch);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const cur = await getAlias(dom, id);
  const next = {
    alias: p.data.alias ?? cur.alias,
    description: p.data.description ?? cur.description,
    conferenceId: p.data.conference_id ?? cur.conference_id,
  };
  await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        await check({ ...dom, db: tx }, next.alias, next.conferenceId, id);
        await tx
          .update(conferenceAlias)
          .set({ ...next, normalised: normaliseAlias(next.alias) })
          .where(eq(conferenceAlias.id, id));
        await recordChange(tx, actorOf(dom), {
          action: 'changed',
          objectType: 'Alias',
          objectId: id,
          objectName: next.alias,
          before: { alias: cur.alias, description: cur.description, conference_id: cur.conference_id },
          after: { alias: next.alias, description: next.description, conference_id: next.conferenceId },
        });
      }),
    RACE,
  );
  dom.bus.notify('conference_alias');
  return getAlias(dom, id);
}

export async function deleteAlias(dom: Domain, id: number): Promise<void> {
  await dom.db.transaction(async (tx) => {
    const gone = await tx.delete(conferenceAlias).where(eq(conferenceAlias.id, id)).returning();
    const row = gone[0];
    if (!row) throw AppError.notFound('Alias');
    await recordChange(tx, actorOf(dom), {
      action: 'deleted',
      objectType: 'Alias',
      objectId: id,
      objectName: row.alias,
      before: { alias: row.alias, description: row.description, conference_id: row.conferenceId },
    });
  });
  dom.bus.notify('conference_alias');
}
