import { inArray } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { conferencingNode } from '../../../db/schema.js';
import type { ResourceDef } from '../../../shared/config/resource.js';
import { assignNodeCertificate, nodeCertificates } from '../../certificate/certificate.service.js';
import type { ResourceStore, StoredKind, StoredObject, StoreListQuery } from './ResourceStore.js';
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

  private async withCertificates(db: Database, rows: StoredObject[]): Promise<StoredObject[]> {
    if (rows.length === 0) return rows;
    const certs = await nodeCertificates(db);
    for (const r of rows) r.values[CERTIFICATE] = certs.get(r.id) ?? null;
    return rows;
  }

  async list(db: Database, def: ResourceDef, q: StoreListQuery) {
    const r = await this.table.list(db, def, q);
    return { total: r.total, rows: await this.withCertificates(db, r.rows) };
  }

  async get(db: Database, def: ResourceDef, id: number) {
    const s = await this.table.get(db, def, id);
    return s ? (await this.withCertificates(db, [s]))[0]! : null;
  }

  async insert(db: Database, def: ResourceDef, values: Record<string, unknown>, uniqueKey: string | null) {
    const { [CERTIFICATE]: certificate, ...rest } = values;
    const id = await this.table.insert(db, def, rest, uniqueKey);
    if (certificate != null) await assignNodeCertificate(db, null, id, certificate as number);
    return id;
  }

  async update(db: Database, def: ResourceDef, id: number, values: Record<string, unknown>, uniqueKey: string | null) {
    const { [CERTIFICATE]: certificate, ...rest } = values;
    await this.table.update(db, def, id, rest, uniqueKey);
    if (certificate !== undefined) await assignNodeCertificate(db, null, id, (certificate as number | null) ?? null);
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
