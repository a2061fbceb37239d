import type { Database } from '../../db/client.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { recordChange } from '../audit/adminLog.service.js';
import { allReferenceIds, existingReferenceIds } from '../config/config.service.js';
import { DocumentStore, type Document } from '../config/store/DocumentStore.js';
import { actorOf, guardUnique, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import {
  caCertificateCreateSchema,
  caCertificatePatchSchema,
  tlsCertificateCreateSchema,
  tlsCertificateGenerateSchema,
  tlsCertificatePatchSchema,
} from '../../shared/certificate/certificate.schema.js';
import {
  CERT_MESSAGES,
  certificateStatus,
  EXPIRY_ALARM_DAYS,
  expiryStatus,
  generateSelfSigned,
  keyMatches,
  parseCertificates,
  parseTlsBundle,
  splitPem,
  type CertificateInfo,
  type ExpiryStatus,
  type ParsedCertificate,
  type TlsBundle,
} from './pem.js';

export const TLS_RESOURCE = 'tls_certificate';
export const CA_RESOURCE = 'ca_certificate';
const TLS_TYPE = 'TLS certificate';
const CA_TYPE = 'Trusted CA certificate';
const DUPLICATE = { certificate: [CERT_MESSAGES.duplicate] };

interface ChainEntry {
  subject_name: string;
  issuer_name: string;
  end_date: string;
}

/** What is stored in `config_object.data`; the private key is kept for the nodes and never leaves the server. */
type TlsData = {
  certificate: string;
  private_key: string;
  parameters: string;
  nodes: number[];
  info: CertificateInfo;
  chain: ChainEntry[];
};
type CaData = {
  certificate: string;
  trusted_intermediate: boolean;
  info: CertificateInfo;
};

const tls = new DocumentStore<TlsData>(TLS_RESOURCE);
const ca = new DocumentStore<CaData>(CA_RESOURCE);

type Shown = CertificateInfo & {
  id: number;
  certificate: string;
  /** The guide's status column: Good, Temporary, Expired, `<n> days left`... */
  status: string;
  /** For the expiry badge and alarms: expiring = within 30 days. */
  expiry: ExpiryStatus;
  creation_time: string;
};
export type TlsCertificate = Shown & { parameters: string; nodes: number[]; chain: ChainEntry[] };
export type CaCertificate = Shown & { trusted_intermediate: boolean };

function shown(row: { id: number; createdAt: Date }, info: CertificateInfo, certificate: string, now: Date): Shown {
  return {
    ...info,
    id: row.id,
    certificate,
    status: certificateStatus(info, now),
    expiry: expiryStatus(info.end_date, now),
    creation_time: row.createdAt.toISOString(),
  };
}

function toTls(row: Document<TlsData>, liveNodes: Set<number> | null, now = new Date()): TlsCertificate {
  const d = row.data;
  return {
    ...shown(row, d.info, d.certificate, now),
    parameters: d.parameters,
    // A deleted node drops out of the assignment.
    nodes: liveNodes ? d.nodes.filter((n) => liveNodes.has(n)) : d.nodes,
    chain: d.chain,
  };
}

function toCa(row: Document<CaData>, now = new Date()): CaCertificate {
  const d = row.data;
  return { ...shown(row, d.info, d.certificate, now), trusted_intermediate: d.trusted_intermediate };
}

/** The fields the administrator log compares: never the private key or its passphrase. */
const tlsAudit = (d: TlsData) => ({
  subject_name: d.info.subject_name,
  issuer_name: d.info.issuer_name,
  serial_no: d.info.serial_no,
  start_date: d.info.start_date,
  end_date: d.info.end_date,
  subject_alt_names: d.info.subject_alt_names,
  fingerprint: d.info.fingerprint,
  parameters: d.parameters,
  nodes: d.nodes,
});
const caAudit = (d: CaData) => ({
  subject_name: d.info.subject_name,
  issuer_name: d.info.issuer_name,
  serial_no: d.info.serial_no,
  end_date: d.info.end_date,
  fingerprint: d.info.fingerprint,
  trusted_intermediate: d.trusted_intermediate,
});

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Parameters<typeof fieldErrors>[0] } } },
  input: unknown,
): T {
  const p = schema.safeParse(input);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  return p.data;
}

async function mustGet<T extends Record<string, unknown>>(db: Database, store: DocumentStore<T>, id: number, what: string): Promise<Document<T>> {
  const row = await store.get(db, id);
  if (!row) throw AppError.notFound(what);
  return row;
}

const liveNodeIds = (db: Database): Promise<Set<number>> => allReferenceIds(db, 'worker_vm');

async function checkNodes(db: Database, nodes: number[]): Promise<number[]> {
  const unique = [...new Set(nodes)];
  if (!unique.length) return [];
  const found = await existingReferenceIds(db, 'worker_vm', unique);
  const bad = unique.filter((n) => !found.has(n));
  if (bad.length) throw AppError.validation({ nodes: bad.map((n) => `Select a valid choice. ${n} is not one of the available choices.`) });
  return unique.sort((a, b) => a - b);
}

/** Assigning a certificate to a node replaces the node's previous certificate (guide). */
async function releaseNodes(db: Database, actor: string | null, ownId: number | null, nodes: number[]): Promise<void> {
  if (!nodes.length) return;
  const taken = new Set(nodes);
  for (const row of await tls.all(db)) {
    const d = row.data;
    if (row.id === ownId || !d.nodes.some((n) => taken.has(n))) continue;
    const after: TlsData = { ...d, nodes: d.nodes.filter((n) => !taken.has(n)) };
    await tls.update(db, row.id, after);
    if (actor)
      await recordChange(db, actor, {
        action: 'changed',
        objectType: TLS_TYPE,
        objectId: row.id,
        objectName: d.info.subject_name,
        before: tlsAudit(d),
        after: tlsAudit(after),
      });
  }
}

/** Node id → its TLS certificate's row id and data. The certificates' `nodes` lists are the one place the assignment is kept. */
async function certificatesByNode(db: Database): Promise<Map<number, { id: number; data: TlsData }>> {
  const out = new Map<number, { id: number; data: TlsData }>();
  for (const row of await tls.all(db)) for (const n of row.data.nodes) out.set(n, { id: row.id, data: row.data });
  return out;
}

/** Node id → id of its TLS certificate. */
export async function nodeCertificates(db: Database): Promise<Map<number, number>> {
  return new Map([...(await certificatesByNode(db))].map(([n, c]) => [n, c.id]));
}

/**
 * Sets a node's certificate from the node's side (worker_vm `tls_certificate`); null leaves it with
 * none. The node's own change is in the administrator log already, so the certificate side is
 * logged only when an actor is given.
 */
export async function assignNodeCertificate(db: Database, actor: string | null, nodeId: number, certificateId: number | null): Promise<void> {
  if (certificateId !== null) {
    const row = await mustGet(db, tls, certificateId, TLS_TYPE);
    const d = row.data;
    if (!d.nodes.includes(nodeId)) {
      const after: TlsData = { ...d, nodes: [...d.nodes, nodeId].sort((a, b) => a - b) };
      await tls.update(db, row.id, after);
      if (actor)
        await recordChange(db, actor, {
          action: 'changed',
          objectType: TLS_TYPE,
          objectId: row.id,
          objectName: d.info.subject_name,
          before: tlsAudit(d),
          after: tlsAudit(after),
        });
    }
  }
  // A node has at most one certificate: leave every other one.
  await releaseNodes(db, actor, certificateId, [nodeId]);
}

/** Another certificate of the same resource with this issuer and serial number (the guide's "same certificate" rule). */
function sameIssuerSerial<T extends { info: CertificateInfo }>(rows: Document<T>[], info: CertificateInfo, ownId: number | null): Document<T> | undefined {
  return rows.find((r) => {
    const i = r.data.info;
    return r.id !== ownId && i.raw_issuer === info.raw_issuer && i.serial_no === info.serial_no;
  });
}

const chainOf = (chain: ParsedCertificate[]): ChainEntry[] =>
  chain.map((c) => ({ subject_name: c.info.subject_name, issuer_name: c.info.issuer_name, end_date: c.info.end_date }));

// --- TLS certificates ------------------------------------------------------------------------

export interface CertificateListQuery {
  /** Matches subject or issuer name, case-insensitively. */
  search?: string;
}

const matches = (q: CertificateListQuery, i: CertificateInfo) =>
  !q.search || [i.subject_name, i.raw_subject, i.issuer_name, i.subject_alt_names].some((v) => v.toLowerCase().includes(q.search!.toLowerCase()));
const bySubject = (a: Shown, b: Shown) => a.subject_name.localeCompare(b.subject_name) || a.id - b.id;

export async function listTlsCertificates(dom: Domain, q: CertificateListQuery = {}, now = new Date()): Promise<TlsCertificate[]> {
  const live = await liveNodeIds(dom.db);
  return (await tls.all(dom.db))
    .map((r) => toTls(r, live, now))
    .filter((c) => matches(q, c))
    .sort(bySubject);
}

export async function getTlsCertificate(dom: Domain, id: number): Promise<TlsCertificate> {
  return toTls(await mustGet(dom.db, tls, id, TLS_TYPE), await liveNodeIds(dom.db));
}

/**
 * Uploads a TLS certificate with its private key. The exact certificate twice is refused; a
 * certificate with the same issuer and serial number as a stored one updates that one (guide).
 */
export async function createTlsCertificate(dom: Domain, input: unknown): Promise<TlsCertificate> {
  const v = parse(tlsCertificateCreateSchema, input);
  const bundle = parseTlsBundle(v);
  const id = await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const nodes = await checkNodes(tx, v.nodes);
        const rows = await tls.all(tx);
        if (rows.some((r) => r.uniqueKey === bundle.leaf.info.fingerprint)) throw AppError.validation(DUPLICATE);
        const data: TlsData = {
          certificate: bundle.certificate,
          private_key: bundle.privateKey,
          parameters: bundle.parameters,
          nodes,
          info: bundle.leaf.info,
          chain: chainOf(bundle.chain),
        };
        const same = sameIssuerSerial(rows, bundle.leaf.info, null);
        if (same) {
          const before = same.data;
          if (!v.nodes.length) data.nodes = before.nodes;
          await releaseNodes(tx, actorOf(dom), same.id, data.nodes);
          await tls.update(tx, same.id, data, data.info.fingerprint);
          await recordChange(tx, actorOf(dom), {
            action: 'changed',
            objectType: TLS_TYPE,
            objectId: same.id,
            objectName: data.info.subject_name,
            before: tlsAudit(before),
            after: tlsAudit(data),
          });
          return same.id;
        }
        await releaseNodes(tx, actorOf(dom), null, nodes);
        const row = await tls.insert(tx, data, data.info.fingerprint);
        await recordChange(tx, actorOf(dom), {
          action: 'added',
          objectType: TLS_TYPE,
          objectId: row.id,
          objectName: data.info.subject_name,
          after: tlsAudit(data),
        });
        return row.id;
      }),
    DUPLICATE,
  );
  dom.bus.notify(TLS_RESOURCE);
  return getTlsCertificate(dom, id);
}

/** Generates a self-signed ("Temporary") certificate and stores it like an upload. */
export async function generateTlsCertificate(dom: Domain, input: unknown): Promise<TlsCertificate> {
  const v = parse(tlsCertificateGenerateSchema, input);
  const { certificate, privateKey } = generateSelfSigned({ commonName: v.common_name, subjectAltNames: v.subject_alt_names.filter(Boolean), days: v.days });
  return createTlsCertificate(dom, { certificate, private_key: privateKey, nodes: v.nodes });
}

/** Changes nodes, TLS parameters or the PEM data; a new certificate must pair with the stored key unless a new key comes with it. */
export async function updateTlsCertificate(dom: Domain, id: number, patch: unknown): Promise<TlsCertificate> {
  const p = parse(tlsCertificatePatchSchema, patch);
  await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const row = await mustGet(tx, tls, id, TLS_TYPE);
        const before = row.data;
        const after: TlsData = { ...before };
        if (p.certificate !== undefined || p.private_key !== undefined || p.parameters !== undefined) {
          const newKey = p.private_key !== undefined && p.private_key.trim() !== '';
          let bundle: TlsBundle;
          try {
            bundle = parseTlsBundle({
              certificate: p.certificate ?? before.certificate,
              private_key: newKey ? p.private_key! : before.private_key,
              private_key_passphrase: newKey ? (p.private_key_passphrase ?? '') : '',
              parameters: p.parameters ?? before.parameters,
            });
          } catch (err) {
            // The stored key cannot be changed here: a mismatch is the new certificate's fault.
            if (!newKey && err instanceof AppError && err.fields?.private_key) throw AppError.validation({ certificate: [CERT_MESSAGES.keyMismatch] });
            throw err;
          }
          if (!newKey && !keyMatches(bundle.leaf, before.private_key)) throw AppError.validation({ certificate: [CERT_MESSAGES.keyMismatch] });
          const rows = await tls.all(tx);
          if (rows.some((r) => r.id !== id && r.uniqueKey === bundle.leaf.info.fingerprint)) throw AppError.validation(DUPLICATE);
          Object.assign(after, {
            certificate: bundle.certificate,
            private_key: bundle.privateKey,
            parameters: bundle.parameters,
            info: bundle.leaf.info,
            chain: chainOf(bundle.chain),
          });
        }
        if (p.nodes !== undefined) {
          after.nodes = await checkNodes(tx, p.nodes);
          await releaseNodes(tx, actorOf(dom), id, after.nodes);
        }
        await tls.update(tx, id, after, after.info.fingerprint);
        await recordChange(tx, actorOf(dom), {
          action: 'changed',
          objectType: TLS_TYPE,
          objectId: id,
          objectName: after.info.subject_name,
          before: tlsAudit(before),
          after: tlsAudit(after),
        });
      }),
    DUPLICATE,
  );
  dom.bus.notify(TLS_RESOURCE);
  return getTlsCertificate(dom, id);
}

export async function deleteTlsCertificate(dom: Domain, id: number): Promise<void> {
  await dom.db.transaction(async (tx) => {
    const row = await tls.remove(tx, id);
    if (!row) throw AppError.notFound(TLS_TYPE);
    const d = row.data;
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: TLS_TYPE, objectId: id, objectName: d.info.subject_name, before: tlsAudit(d) });
  });
  dom.bus.notify(TLS_RESOURCE);
}

/** Every node's certificate (with chain) and key, for the configuration pushes: one read for all nodes. */
export async function tlsCertificatesByNode(db: Database): Promise<Map<number, { certificate: string; privateKey: string }>> {
  return new Map([...(await certificatesByNode(db))].map(([n, c]) => [n, { certificate: c.data.certificate, privateKey: c.data.private_key }]));
}

/** The certificate (with chain), key and parameters a node serves, for the configuration pushed to it; null when none is assigned. */
export async function tlsCertificateForNode(db: Database, nodeId: number): Promise<{ certificate: string; private_key: string; parameters: string } | null> {
  const d = (await certificatesByNode(db)).get(nodeId)?.data;
  return d ? { certificate: d.certificate, private_key: d.private_key, parameters: d.parameters } : null;
}

/** A stored TLS certificate (with chain) and its key, by id (the Management Node's HTTPS); null when there is none. */
export async function tlsCertificateKeyPair(db: Database, id: number): Promise<{ certificate: string; privateKey: string } | null> {
  const row = await tls.get(db, id);
  return row ? { certificate: row.data.certificate, privateKey: row.data.private_key } : null;
}

// --- Trusted CA certificates ------------------------------------------------------------------

export async function listCaCertificates(dom: Domain, q: CertificateListQuery = {}, now = new Date()): Promise<CaCertificate[]> {
  return (await ca.all(dom.db))
    .map((r) => toCa(r, now))
    .filter((c) => matches(q, c))
    .sort(bySubject);
}

export async function getCaCertificate(dom: Domain, id: number): Promise<CaCertificate> {
  return toCa(await mustGet(dom.db, ca, id, CA_TYPE));
}

/**
 * Imports a PEM file of CA certificates, one trusted CA certificate each. Certificates already
 * uploaded are skipped (refused when nothing new remains); one with the issuer and serial number
 * of a stored one updates it (guide).
 */
export async function createCaCertificates(dom: Domain, input: unknown): Promise<CaCertificate[]> {
  const v = parse(caCertificateCreateSchema, input);
  if (!v.certificate.trim()) throw AppError.validation({ certificate: [CERT_MESSAGES.required] });
  if (splitPem(v.certificate).keys.length) throw AppError.validation({ certificate: [CERT_MESSAGES.caWithKey] });
  const { certificates } = parseCertificates(v.certificate);
  const ids = await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const rows = await ca.all(tx);
        const seen = new Set(rows.map((r) => r.uniqueKey));
        const out: number[] = [];
        for (const c of certificates) {
          if (seen.has(c.info.fingerprint)) continue;
          seen.add(c.info.fingerprint);
          const data: CaData = { certificate: `${c.pem}\n`, trusted_intermediate: v.trusted_intermediate, info: c.info };
          const same = sameIssuerSerial(rows, c.info, null);
          if (same) {
            await ca.update(tx, same.id, data, c.info.fingerprint);
            await recordChange(tx, actorOf(dom), {
              action: 'changed',
              objectType: CA_TYPE,
              objectId: same.id,
              objectName: c.info.subject_name,
              before: caAudit(same.data),
              after: caAudit(data),
            });
            out.push(same.id);
            continue;
          }
          const row = await ca.insert(tx, data, c.info.fingerprint);
          rows.push(row);
          await recordChange(tx, actorOf(dom), {
            action: 'added',
            objectType: CA_TYPE,
            objectId: row.id,
            objectName: c.info.subject_name,
            after: caAudit(data),
          });
          out.push(row.id);
        }
        if (!out.length) throw AppError.validation(DUPLICATE);
        return out;
      }),
    DUPLICATE,
  );
  dom.bus.notify(CA_RESOURCE);
  const all = await listCaCertificates(dom);
  return ids.map((i) => all.find((c) => c.id === i)!);
}

export async function updateCaCertificate(dom: Domain, id: number, patch: unknown): Promise<CaCertificate> {
  const p = parse(caCertificatePatchSchema, patch);
  await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const row = await mustGet(tx, ca, id, CA_TYPE);
        const before = row.data;
        const after: CaData = { ...before, trusted_intermediate: p.trusted_intermediate ?? before.trusted_intermediate };
        if (p.certificate !== undefined) {
          if (splitPem(p.certificate).keys.length) throw AppError.validation({ certificate: [CERT_MESSAGES.caWithKey] });
          const { certificates } = parseCertificates(p.certificate);
          if (certificates.length !== 1) throw AppError.validation({ certificate: ['Enter exactly one certificate.'] });
          const c = certificates[0]!;
          if ((await ca.all(tx)).some((r) => r.id !== id && r.uniqueKey === c.info.fingerprint)) throw AppError.validation(DUPLICATE);
          Object.assign(after, { certificate: `${c.pem}\n`, info: c.info });
        }
        await ca.update(tx, id, after, after.info.fingerprint);
        await recordChange(tx, actorOf(dom), {
          action: 'changed',
          objectType: CA_TYPE,
          objectId: id,
          objectName: after.info.subject_name,
          before: caAudit(before),
          after: caAudit(after),
        });
      }),
    DUPLICATE,
  );
  dom.bus.notify(CA_RESOURCE);
  return getCaCertificate(dom, id);
}

export async function deleteCaCertificate(dom: Domain, id: number): Promise<void> {
  await dom.db.transaction(async (tx) => {
    const row = await ca.remove(tx, id);
    if (!row) throw AppError.notFound(CA_TYPE);
    const d = row.data;
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: CA_TYPE, objectId: id, objectName: d.info.subject_name, before: caAudit(d) });
  });
  dom.bus.notify(CA_RESOURCE);
}

/** The custom trusted CA certificates as one PEM file (the guide's Export, `ca-certificates.pem`; also what nodes trust). */
export async function trustedCaBundle(db: Database): Promise<string> {
  return (await ca.all(db)).map((r) => r.data.certificate).join('');
}

// --- Alarms ------------------------------------------------------------------------------------

export interface CertificateAlarm {
  resource: typeof TLS_RESOURCE | typeof CA_RESOURCE;
  certificate_id: number;
  subject_name: string;
  end_date: string;
  /** The guide's catalogue lists both expiry alarms as Warning. */
  level: 'warning' | 'error';
  /** Alarm name, numeric identifier and `Alarm=` key from the guide's catalogue. */
  name: 'TLS certificates expiring' | 'Trusted CA certificates expiring';
  identifier: 7 | 6;
  alarm: 'tls_certificate_expiring' | 'trustedca_expiring';
  expiry: Exclude<ExpiryStatus, 'ok'>;
  /** The guide's alarm cause, verbatim. */
  message: string;
  /** This certificate, e.g. `TLS certificate "px01.example.com" expires on 2025-01-31.` */
  details: string;
}

const ALARM_TEXT = {
  tls: `One or more of your TLS certificates is due to expire within the next ${EXPIRY_ALARM_DAYS} days, or has already expired.`,
  ca: `One or more of your trusted CA certificates is due to expire within the next ${EXPIRY_ALARM_DAYS} days, or has already expired.`,
};

/** One alarm instance per TLS or trusted CA certificate that expires within 30 days or has expired. */
export async function certificateAlarms(dom: Domain, now = new Date()): Promise<CertificateAlarm[]> {
  const out: CertificateAlarm[] = [];
  const add = (kind: 'tls' | 'ca', c: Shown) => {
    if (c.expiry === 'ok') return;
    const label = kind === 'tls' ? TLS_TYPE : CA_TYPE;
    const day = c.end_date.slice(0, 10);
    out.push({
      resource: kind === 'tls' ? TLS_RESOURCE : CA_RESOURCE,
      certificate_id: c.id,
      subject_name: c.subject_name,
      end_date: c.end_date,
      level: 'warning',
      name: kind === 'tls' ? 'TLS certificates expiring' : 'Trusted CA certificates expiring',
      identifier: kind === 'tls' ? 7 : 6,
      alarm: kind === 'tls' ? 'tls_certificate_expiring' : 'trustedca_expiring',
      expiry: c.expiry,
      message: ALARM_TEXT[kind],
      details: c.expiry === 'expired' ? `${label} "${c.subject_name}" expired on ${day}.` : `${label} "${c.subject_name}" expires on ${day}.`,
    });
  };
  for (const c of await listTlsCertificates(dom, {}, now)) add('tls', c);
  for (const c of await listCaCertificates(dom, {}, now)) add('ca', c);
  return out;
}
