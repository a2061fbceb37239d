import { inArray } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { conferencingNode } from '../../../db/schema.js';
import type { ResourceDef } from '../../../shared/config/resource.js';
import { assignNodeCertificate, nodeCertificates } from '../../certificate/certificate.service.js';
import type { ValuesInOf } from '../../../shared/config/record.js';
import { plainValues, storedAs, type ResourceStore, type StoredKind, type StoredObject, type StoreListQuery } from './ResourceStore.js';
import type { TableStore } from './TableStore.js';

/** The worker_vm field whose value the TLS certificates hold (their `nodes` lists). */
const CERTIFICATE = 'tls_certificate';

/**
 * Conferencing nodes: the typed table, except the node's TLS certificate, which is kept once, in
 * the certificate's `nodes` list, and shown on the node from there. Both API sides (worker_vm
 * `tls_certificate` and tls_certificate `nodes`) then always agree.
 */
export class NodeStore implements ResourceStore {
  constructor(private readonly table: TableStore) {}

  private async withCertificates<D extends ResourceDef>(db: Database, rows: StoredObject<D>[]): Promise<StoredObject<D>[]> {
    if (rows.length === 0) return rows;
    const certs = await nodeCertificates(db);
    return rows.map((r) => ({ ...r, values: storedAs<D>({ ...r.values, [CERTIFICATE]: certs.get(r.id) ?? null }) }));
  }

  async list<D extends ResourceDef>(db: Database, def: D, q: StoreListQuery) {
    const r = await this.table.list(db, def, q);
    return { total: r.total, rows: await this.withCertificates(db, r.rows) };
  }

  async get<D extends ResourceDef>(db: Database, def: D, id: number) {
    const s = await this.table.get(db, def, id);
    return s ? (await this.withCertificates(db, [s]))[0]! : null;
  }

  async insert<D extends ResourceDef>(db: Database, def: D, values: ValuesInOf<D>, uniqueKey: string | null) {
    const { [CERTIFICATE]: certificate, ...rest } = plainValues(values);
    const id = await this.table.insert<ResourceDef>(db, def, rest, uniqueKey);
    if (typeof certificate === 'number') await assignNodeCertificate(db, null, id, certificate);
    return id;
  }

  async update<D extends ResourceDef>(db: Database, def: D, id: number, values: ValuesInOf<D>, uniqueKey: string | null) {
    const { [CERTIFICATE]: certificate, ...rest } = plainValues(values);
    await this.table.update<ResourceDef>(db, def, id, rest, uniqueKey);
    if (certificate !== undefined) await assignNodeCertificate(db, null, id, typeof certificate === 'number' ? certificate : null);
  }

  async remove(db: Database, def: ResourceDef, id: number) {
    await assignNodeCertificate(db, null, id, null);
    return this.table.remove(db, def, id);
  }

  options(db: Database, kind: StoredKind) {
    return this.table.options(db, kind);
  }

  names(db: Database, kind: StoredKind, ids: number[]) {
    return this.table.names(db, kind, ids);
  }

  existingIds(db: Database, kind: StoredKind, ids: number[]) {
    return this.table.existingIds(db, kind, ids);
  }

  findClash(db: Database, def: ResourceDef, fields: string[], values: string[], ownId: number | null) {
    return this.table.findClash(db, def, fields, values, ownId);
  }

  async referencing(db: Database, def: ResourceDef, field: string, id: number) {
    if (field !== CERTIFICATE) return this.table.referencing(db, def, field, id);
    const ids = [...(await nodeCertificates(db))].filter(([, cert]) => cert === id).map(([node]) => node);
    if (ids.length === 0) return [];
    return db.select({ id: conferencingNode.id, name: conferencingNode.name }).from(conferencingNode).where(inArray(conferencingNode.id, ids));
  }
}
