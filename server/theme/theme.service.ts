import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { and, asc, count, desc, eq, ilike, ne } from 'drizzle-orm';
import { ivrTheme } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { THEME_MESSAGES, themeFieldsSchema, themePatchSchema, type Theme } from '../../shared/theme/theme.schema.js';
import { recordChange } from '../audit/adminLog.service.js';
import { actorOf, guardUnique, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { themeVersionOf, validateThemePackage, type ThemeContents } from './themePackage.js';
import { readParts, writeParts, type SpooledPackage } from './themeStorage.js';

const OBJECT_TYPE = 'Theme';
const NAME_TAKEN = { name: [THEME_MESSAGES.nameTaken] };

// Everything but the package bytes, so lists never load the ZIPs.
const columns = {
  id: ivrTheme.id,
  name: ivrTheme.name,
  description: ivrTheme.description,
  uuid: ivrTheme.uuid,
  contents: ivrTheme.contents,
  size: ivrTheme.packageSize,
  createdAt: ivrTheme.createdAt,
  updatedAt: ivrTheme.updatedAt,
};
type Row = { [K in keyof typeof columns]: (typeof columns)[K]['_']['data'] };

function toTheme(r: Row): Theme {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    uuid: r.uuid,
    files: r.contents.files,
    theme_version: themeVersionOf(r.contents.config),
    package_size: r.size,
    creation_time: r.createdAt.toISOString(),
    last_updated: r.updatedAt.toISOString(),
  };
}

/** What the administrator log records: never the package bytes, only its file list. */
const auditShape = (t: { name: string; description: string; files: string[] }) => ({ name: t.name, description: t.description, files: t.files });

/**
 * The spooled package's checked contents. Field errors come back in `errors`, so they are reported
 * with the other fields' errors; the caller discards the spool file.
 */
async function checkPackage(
  pkg: SpooledPackage | undefined,
  errors: Record<string, string[]>,
): Promise<{ pkg: SpooledPackage; contents: ThemeContents } | null> {
  try {
    if (!pkg) throw AppError.validation({ package: [THEME_MESSAGES.packageRequired] });
    return { pkg, contents: await validateThemePackage(pkg.path) };
  } catch (err) {
    if (!(err instanceof AppError) || !err.fields) throw err;
    Object.assign(errors, err.fields);
    return null;
  }
}

export interface ThemeListQuery {
  search?: string;
  /** Exact name match (the REST API's `name=` filter). */
  name?: string;
  offset?: number;
  limit?: number;
  orderBy?: 'name' | '-name' | 'id' | '-id';
}

export async function listThemes(dom: Domain, q: ThemeListQuery = {}): Promise<{ total: number; items: Theme[] }> {
  const filters = [];
  if (q.name !== undefined) filters.push(eq(ivrTheme.name, q.name));
  if (q.search) filters.push(ilike(ivrTheme.name, `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  const where = and(...filters);
  const order = q.orderBy ?? 'name';
  const column = order.endsWith('name') ? ivrTheme.name : ivrTheme.id;
  const [total] = await dom.db.select({ n: count() }).from(ivrTheme).where(where);
  const rows = await dom.db
    .select(columns)
    .from(ivrTheme)
    .where(where)
    .orderBy(order.startsWith('-') ? desc(column) : asc(column), asc(ivrTheme.id))
    .limit(Math.min(q.limit ?? 20, 10_000))
    .offset(q.offset ?? 0);
  return { total: total?.n ?? 0, items: rows.map(toTheme) };
}

export async function getTheme(dom: Domain, id: number): Promise<Theme> {
  const [row] = await dom.db.select(columns).from(ivrTheme).where(eq(ivrTheme.id, id));
  if (!row) throw AppError.notFound('Theme');
  return toTheme(row);
}

/** "Download theme": the ZIP as uploaded, streamed from its stored parts, with a file name and its hash. */
export async function downloadTheme(dom: Domain, id: number): Promise<{ fileName: string; size: number; sha256: string; stream: () => Readable }> {
  const [row] = await dom.db
    .select({ name: ivrTheme.name, size: ivrTheme.packageSize, sha256: ivrTheme.packageSha256 })
    .from(ivrTheme)
    .where(eq(ivrTheme.id, id));
  if (!row) throw AppError.notFound('Theme');
  return {
    fileName: `${row.name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'theme'}.zip`,
    size: row.size,
    sha256: row.sha256,
    stream: () => readParts(dom.db, id),
  };
}

async function nameTaken(db: Database, name: string, ownId: number | null): Promise<boolean> {
  const rows = await db
    .select({ id: ivrTheme.id })
    .from(ivrTheme)
    .where(and(eq(ivrTheme.name, name), ownId === null ? undefined : ne(ivrTheme.id, ownId)));
  return rows.length > 0;
}

/**
 * Adds a theme from its fields and ZIP. Field errors and package errors are reported together, so
 * the form shows every problem at once.
 */
export async function createTheme(dom: Domain, input: { name?: unknown; description?: unknown; package?: SpooledPackage }): Promise<Theme> {
  const fields = themeFieldsSchema.safeParse({ name: input.name, description: input.description ?? '' });
  const errors: Record<string, string[]> = fields.success ? {} : fieldErrors(fields.error.issues);
  const checked = await checkPackage(input.package, errors);
  if (fields.success && (await nameTaken(dom.db, fields.data.name, null))) errors.name = NAME_TAKEN.name;
  if (Object.keys(errors).length || !fields.success || !checked) throw AppError.validation(errors);
  const v = fields.data;
  const { pkg, contents } = checked;
  const id = await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const [row] = await tx
          .insert(ivrTheme)
          .values({ name: v.name, description: v.description, uuid: randomUUID(), packageSha256: pkg.sha256, packageSize: pkg.size, contents })
          .returning({ id: ivrTheme.id });
        await writeParts(tx, row!.id, pkg);
        await recordChange(tx, actorOf(dom), {
          action: 'added',
          objectType: OBJECT_TYPE,
          objectId: row!.id,
          objectName: v.name,
          after: auditShape({ ...v, files: contents.files }),
        });
        return row!.id;
      }),
    NAME_TAKEN,
  );
  dom.bus.notify('ivr_theme');
  return getTheme(dom, id);
}

/**
 * Changes name/description and, when a new ZIP is given, replaces the theme's files: the guide says
 * an upload deletes all previously uploaded files of the theme (no merge).
 */
export async function updateTheme(dom: Domain, id: number, patch: { name?: unknown; description?: unknown; package?: SpooledPackage }): Promise<Theme> {
  const { package: newPackage, ...rest } = patch;
  const p = themePatchSchema.safeParse(rest);
  const errors: Record<string, string[]> = p.success ? {} : fieldErrors(p.error.issues);
  const current = await getTheme(dom, id);
  const checked = newPackage ? await checkPackage(newPackage, errors) : null;
  const name = p.success ? (p.data.name ?? current.name) : current.name;
  const description = p.success ? (p.data.description ?? current.description) : current.description;
  if (p.success && (await nameTaken(dom.db, name, id))) errors.name = NAME_TAKEN.name;
  if (Object.keys(errors).length) throw AppError.validation(errors);
  await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const updated = await tx
          .update(ivrTheme)
          .set({ name, description, ...(checked ? { packageSha256: checked.pkg.sha256, packageSize: checked.pkg.size, contents: checked.contents } : {}) })
          .where(eq(ivrTheme.id, id))
          .returning({ id: ivrTheme.id });
        if (updated.length === 0) throw AppError.notFound('Theme');
        if (checked) await writeParts(tx, id, checked.pkg);
        await recordChange(tx, actorOf(dom), {
          action: 'changed',
          objectType: OBJECT_TYPE,
          objectId: id,
          objectName: name,
          before: auditShape(current),
          after: auditShape({ name, description, files: checked?.contents.files ?? current.files }),
        });
      }),
    NAME_TAKEN,
  );
  dom.bus.notify('ivr_theme');
  return getTheme(dom, id);
}

export async function deleteTheme(dom: Domain, id: number): Promise<void> {
  const current = await getTheme(dom, id);
  await dom.db.transaction(async (tx) => {
    const deleted = await tx.delete(ivrTheme).where(eq(ivrTheme.id, id)).returning({ id: ivrTheme.id });
    if (deleted.length === 0) throw AppError.notFound('Theme');
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: OBJECT_TYPE, objectId: id, objectName: current.name, before: auditShape(current) });
  });
  dom.bus.notify('ivr_theme');
}
