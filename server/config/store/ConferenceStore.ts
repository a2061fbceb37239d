import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { insertRows } from '../../../db/insertRows.js';
import { conference, conferenceAlias } from '../../../db/schema.js';
import { normaliseAlias } from '../../../shared/alias/normalise.js';
import type { AliasInput, StoredAlias } from '../../../shared/alias/alias.schema.js';
import type { ResourceDef } from '../../../shared/config/resource.js';
import type { ValuesInOf } from '../../../shared/config/record.js';
import type { StoredObject, StoreListQuery, StoreRow } from './ResourceStore.js';
import { chunks, escapeLike, plainValues, storedAs } from './ResourceStore.js';
import { TableStore } from './TableStore.js';

/** A service's aliases as written (validated by the alias schema); left out of a change: kept. */
const aliasesOf = <D extends ResourceDef>(values: ValuesInOf<D>): AliasInput[] | undefined => plainValues(values).aliases;

/** Services (`conference` rows of one service type, or of every type when `serviceType` is null) with their aliases. */
export class ConferenceStore extends TableStore {
  constructor(readonly serviceType: string | null) {
    super({
      table: conference,
      id: conference.id,
      createdAt: conference.createdAt,
      settings: conference.settings,
      columns: {
        name: { column: conference.name, property: 'name' },
        description: { column: conference.description, property: 'description' },
        pin: { column: conference.pin, property: 'pin' },
        guest_pin: { column: conference.guestPin, property: 'guestPin' },
        allow_guests: { column: conference.allowGuests, property: 'allowGuests' },
        participant_limit: { column: conference.participantLimit, property: 'participantLimit' },
        service_type: { column: conference.serviceType, property: 'serviceType' },
      },
      scope: serviceType === null ? undefined : () => eq(conference.serviceType, serviceType),
      fixed: serviceType === null ? undefined : { serviceType },
    });
  }

  private async withAliases<D extends ResourceDef>(db: Database, rows: StoredObject<D>[]): Promise<StoredObject<D>[]> {
    if (rows.length === 0) return rows;
    const aliases = await db
      .select()
      .from(conferenceAlias)
      .where(
        inArray(
          conferenceAlias.conferenceId,
          rows.map((r) => r.id),
        ),
      );
    aliases.sort((a, b) => a.viewOrder - b.viewOrder || a.id - b.id);
    // Grouped once: a page of 500 services would otherwise scan every alias 500 times.
    const byService = new Map<number, StoredAlias[]>();
    for (const a of aliases)
      (byService.get(a.conferenceId) ?? byService.set(a.conferenceId, []).get(a.conferenceId)!).push({ id: a.id, alias: a.alias, description: a.description });
    return rows.map((r) => ({ ...r, values: storedAs<D>({ ...r.values, aliases: byService.get(r.id) ?? [] }) }));
  }

  protected override searchFilter(def: ResourceDef, search: string) {
    const like = escapeLike(search);
    return sql`(${super.searchFilter(def, search)} or exists (select 1 from ${conferenceAlias} where ${conferenceAlias.conferenceId} = ${conference.id} and ${conferenceAlias.alias} ilike ${like}))`;
  }

  override async list<D extends ResourceDef>(db: Database, def: D, q: StoreListQuery) {
    const r = await super.list(db, def, q);
    return { total: r.total, rows: await this.withAliases(db, r.rows) };
  }

  override async get<D extends ResourceDef>(db: Database, def: D, id: number) {
    const r = await super.get(db, def, id);
    return r ? (await this.withAliases(db, [r]))[0]! : null;
  }

  override async insert<D extends ResourceDef>(db: Database, def: D, values: ValuesInOf<D>) {
    const id = await super.insert(db, def, values, null);
    await this.writeAliases(db, id, aliasesOf(values) ?? [], true);
    return id;
  }

  override async update<D extends ResourceDef>(db: Database, def: D, id: number, values: ValuesInOf<D>) {
    await super.update(db, def, id, values, null);
    const aliases = aliasesOf(values);
    if (aliases !== undefined) await this.writeAliases(db, id, aliases);
  }

  override async insertMany<D extends ResourceDef>(db: Database, def: D, rows: Pick<StoreRow<D>, 'values'>[]) {
    const ids = await super.insertMany(db, def, rows);
    await this.insertAliases(
      db,
      rows.map((r, i) => ({ conferenceId: ids[i]!, aliases: aliasesOf(r.values) ?? [] })),
    );
    return ids;
  }

  override async updateMany<D extends ResourceDef>(db: Database, def: D, rows: (Pick<StoreRow<D>, 'values'> & { id: number })[]) {
    await super.updateMany(db, def, rows);
    const replaced = rows.flatMap((r) => {
      const aliases = aliasesOf(r.values);
      return aliases === undefined ? [] : [{ id: r.id, aliases }];
    });
    // Every replaced list goes before any is written, so aliases may move between these services.
    for (const batch of chunks(replaced, 5000))
      await db.delete(conferenceAlias).where(
        inArray(
          conferenceAlias.conferenceId,
          batch.map((r) => r.id),
        ),
      );
    await this.insertAliases(
      db,
      replaced.map((r) => ({ conferenceId: r.id, aliases: r.aliases })),
    );
  }

  private async insertAliases(db: Database, lists: { conferenceId: number; aliases: AliasInput[] }[]): Promise<void> {
    const rows = lists.flatMap(({ conferenceId, aliases }) =>
      aliases.map((a, i) => ({ alias: a.alias, normalised: normaliseAlias(a.alias), description: a.description ?? '', conferenceId, viewOrder: i })),
    );
    await insertRows(db, conferenceAlias, rows);
  }

  /** Service names are unique across every service type (compared exactly, as the unique index does). */
  override async findClashes(db: Database, _def: ResourceDef, field: string, values: string[]) {
    const out = new Map<string, number>();
    if (field !== 'name') return out;
    for (const batch of chunks([...new Set(values)], 5000)) {
      for (const r of await db.select({ id: conference.id, name: conference.name }).from(conference).where(inArray(conference.name, batch)))
        out.set(r.name, r.id);
    }
    return out;
  }

  /** Service names are unique across every service type. */
  override async findClash(db: Database, _def: ResourceDef, fields: string[], values: string[], ownId: number | null) {
    if (fields.length !== 1 || fields[0] !== 'name') return null;
    const [r] = await db
      .select({ id: conference.id })
      .from(conference)
      .where(and(eq(conference.name, values[0]!), ownId === null ? undefined : ne(conference.id, ownId)))
      .limit(1);
    return r?.id ?? null;
  }

  private async writeAliases(db: Database, conferenceId: number, aliases: AliasInput[], isNew = false): Promise<void> {
    // A new service has no aliases to replace.
    if (!isNew) await db.delete(conferenceAlias).where(eq(conferenceAlias.conferenceId, conferenceId));
    if (aliases.length === 0) return;
    await db
      .insert(conferenceAlias)
      .values(aliases.map((a, i) => ({ alias: a.alias, normalised: normaliseAlias(a.alias), description: a.description ?? '', conferenceId, viewOrder: i })));
  }

  /** Bulk import: which of these normalised aliases are held, by which service (id and name). */
  static async aliasHolders(db: Database, normalised: string[]): Promise<Map<string, { id: number; name: string }>> {
    const out = new Map<string, { id: number; name: string }>();
    for (const batch of chunks([...new Set(normalised)], 5000)) {
      const held = await db
        .select({ normalised: conferenceAlias.normalised, id: conference.id, name: conference.name })
        .from(conferenceAlias)
        .innerJoin(conference, eq(conference.id, conferenceAlias.conferenceId))
        .where(inArray(conferenceAlias.normalised, batch));
      for (const h of held) out.set(h.normalised, { id: h.id, name: h.name });
    }
    return out;
  }

  /** Aliases of `aliases` already held by another service: index → that service's name. */
  static async aliasClashes(db: Database, aliases: AliasInput[], ownId: number | null): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    if (aliases.length === 0) return out;
    const normalised = aliases.map((a) => normaliseAlias(a.alias));
    const held = await db
      .select({ normalised: conferenceAlias.normalised, service: conference.name })
      .from(conferenceAlias)
      .innerJoin(conference, eq(conference.id, conferenceAlias.conferenceId))
      .where(and(inArray(conferenceAlias.normalised, normalised), ownId === null ? undefined : ne(conferenceAlias.conferenceId, ownId)));
    normalised.forEach((n, i) => {
      const clash = held.find((h) => h.normalised === n);
      if (clash) out.set(i, clash.service);
    });
    return out;
  }
}
