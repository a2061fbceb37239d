import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import forge from 'node-forge';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminLog, conferencingNode, systemLocation } from '../../db/schema.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { AppError } from '../errors/AppError.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import { registerCertificateRoutes } from './certificate.routes.js';
import { certificateAlarms, tlsCertificateForNode, trustedCaBundle } from './certificate.service.js';
import { CERT_MESSAGES, certificateStatus, expiryStatus, generateSelfSigned, loadPrivateKey, parseCertificates, parseTlsBundle, pemBlocks } from './pem.js';

const DAY = 86_400_000;
const fields = (fn: () => unknown): Record<string, string[]> => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError && err.fields) return err.fields;
    throw err;
  }
  throw new Error('expected a validation error');
};
const bundle = (certificate: string, private_key: string, private_key_passphrase = '', parameters = '') => ({
  certificate,
  private_key,
  private_key_passphrase,
  parameters,
});

/** A certificate signed by its own CA, built with forge, for chains and trusted CA bundles. */
function caAndLeaf(cn: string) {
  const caKeys = forge.pki.rsa.generateKeyPair(2048);
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = '0a';
  ca.validity.notBefore = new Date(Date.now() - DAY);
  ca.validity.notAfter = new Date(Date.now() + 3_650 * DAY);
  const caName = [
    { name: 'commonName', value: `${cn} Root CA` },
    { name: 'organizationName', value: 'Test CA' },
  ];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectKeyIdentifier' }]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const leafKeys = forge.pki.rsa.generateKeyPair(2048);
  const leaf = forge.pki.createCertificate();
  leaf.publicKey = leafKeys.publicKey;
  leaf.serialNumber = '0b';
  leaf.validity.notBefore = new Date(Date.now() - DAY);
  leaf.validity.notAfter = new Date(Date.now() + 365 * DAY);
  leaf.setSubject([{ name: 'commonName', value: cn }]);
  leaf.setIssuer(caName);
  leaf.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: cn }] }]);
  leaf.sign(caKeys.privateKey, forge.md.sha256.create());
  return { ca: forge.pki.certificateToPem(ca), leaf: forge.pki.certificateToPem(leaf), leafKey: forge.pki.privateKeyToPem(leafKeys.privateKey) };
}

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

describe('pem.ts', () => {
  const g = generateSelfSigned({ commonName: 'px01.vc.example.com', subjectAltNames: ['px.vc.example.com', '10.0.0.5'] });

  it('generates a self-signed RSA 2048 / SHA-256 certificate and parses it back', () => {
    const b = parseTlsBundle(bundle(g.certificate, g.privateKey));
    expect(b.leaf.info).toMatchObject({
      subject_name: 'px01.vc.example.com',
      raw_subject: 'CN=px01.vc.example.com',
      issuer_name: 'px01.vc.example.com',
      key_type: 'RSA',
      key_size: 2048,
      signature_algorithm: 'sha256WithRSAEncryption',
      weak_signature: false,
      self_signed: true,
    });
    expect(b.leaf.info.subject_alt_names).toBe('DNS:px01.vc.example.com, DNS:px.vc.example.com, IP Address:10.0.0.5');
    expect(b.leaf.info.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(b.leaf.info.serial_no).toMatch(/^\d+$/);
    expect(new Date(b.leaf.info.end_date).getTime() - new Date(b.leaf.info.start_date).getTime()).toBe(365 * DAY);
    expect(b.leaf.info.text).toContain('TLS Web Client Authentication');
    expect(b.chain).toEqual([]);
    expect(b.privateKey).toContain('-----BEGIN PRIVATE KEY-----');
    expect(certificateStatus(b.leaf.info)).toBe('Temporary');
    expect(expiryStatus(b.leaf.info.end_date)).toBe('ok');
  });

  it.skipIf(!hasOpenssl)('computes the subject hash, serial and SANs exactly as OpenSSL does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cert-'));
    const key = join(dir, 'k.pem');
    const crt = join(dir, 'c.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        crt,
        '-days',
        '20',
        '-subj',
        '/C=NO/O=Example   Org/CN=Conf.Example.COM',
        '-addext',
        'subjectAltName=DNS:conf.example.com',
      ],
      { stdio: 'ignore' },
    );
    const out = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-subject_hash', '-issuer_hash', '-serial'], { encoding: 'utf8' }).split('\n');
    const { leaf } = parseTlsBundle(bundle(execFileSync('cat', [crt], { encoding: 'utf8' }), execFileSync('cat', [key], { encoding: 'utf8' })));
    expect(leaf.info.subject_hash).toBe(out[0]);
    expect(leaf.info.issuer_hash).toBe(out[1]);
    expect(BigInt(leaf.info.serial_no).toString(16).toUpperCase()).toBe(out[2]!.replace('serial=', '').replace(/^0+/, ''));
    expect(leaf.info).toMatchObject({
      key_type: 'ECDSA',
      key_size: 256,
      signature_algorithm: 'ecdsa-with-SHA256',
      raw_subject: 'C=NO, O=Example   Org, CN=Conf.Example.COM',
    });
    // 20 days left: the guide's "<n> days left" status and the 30-day expiry alarm.
    expect(certificateStatus(leaf.info)).toMatch(/^(19|20) days left$/);
    expect(expiryStatus(leaf.info.end_date)).toBe('expiring');
  });

  it('refuses a private key that does not pair with the certificate, in the guide words', () => {
    const other = generateSelfSigned({ commonName: 'other.example.com' });
    expect(fields(() => parseTlsBundle(bundle(g.certificate, other.privateKey)))).toEqual({ private_key: [CERT_MESSAGES.keyMismatch] });
  });

  it('picks the certificate that pairs with the key out of a bundle, and keeps the rest as the chain', () => {
    const { ca, leaf, leafKey } = caAndLeaf('chain.example.com');
    const b = parseTlsBundle(bundle(`${ca}\n${leaf}`, leafKey));
    expect(b.leaf.info.subject_name).toBe('chain.example.com');
    expect(b.leaf.info.self_signed).toBe(false);
    expect(b.chain.map((c) => c.info.subject_name)).toEqual(['chain.example.com Root CA']);
    expect(pemBlocks(b.certificate).map((x) => x.type)).toEqual(['CERTIFICATE', 'CERTIFICATE']);
    expect(b.chain[0]!.info.key_id).toMatch(/^([0-9A-F]{2}:)+[0-9A-F]{2}$/);
    // The key appended to the certificate text (as "Import files" allows) works too.
    expect(parseTlsBundle(bundle(`${leaf}${leafKey}`, '')).leaf.info.subject_name).toBe('chain.example.com');
  });

  it('refuses garbage, a CSR, missing fields and bad TLS parameters beside each field', () => {
    expect(fields(() => parseTlsBundle(bundle('hello', g.privateKey)))).toEqual({ certificate: [CERT_MESSAGES.notPem] });
    expect(fields(() => parseTlsBundle(bundle('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n', g.privateKey)))).toEqual({
      certificate: [CERT_MESSAGES.notPem],
    });
    expect(fields(() => parseTlsBundle(bundle('', '')))).toEqual({ certificate: [CERT_MESSAGES.required] });
    expect(fields(() => parseTlsBundle(bundle(g.certificate, '')))).toEqual({ private_key: [CERT_MESSAGES.required] });
    expect(fields(() => parseTlsBundle(bundle(g.certificate, 'not a key')))).toEqual({ private_key: [CERT_MESSAGES.keyNotPem] });
    expect(fields(() => parseTlsBundle(bundle(g.certificate, g.privateKey, '', 'DH 2048')))).toEqual({ parameters: [CERT_MESSAGES.parameters] });

    const keys = forge.pki.rsa.generateKeyPair(1024);
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = keys.publicKey;
    csr.setSubject([{ name: 'commonName', value: 'csr.example.com' }]);
    csr.sign(keys.privateKey, forge.md.sha256.create());
    expect(fields(() => parseTlsBundle(bundle(forge.pki.certificationRequestToPem(csr), g.privateKey)))).toEqual({ certificate: [CERT_MESSAGES.csr] });
  });

  it('decrypts an encrypted private key with its passphrase only', () => {
    const encrypted = createPrivateKey(g.privateKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret phrase' }).toString();
    expect(encrypted).toContain('ENCRYPTED PRIVATE KEY');
    expect(fields(() => parseTlsBundle(bundle(g.certificate, encrypted)))).toEqual({ private_key_passphrase: [CERT_MESSAGES.passphraseRequired] });
    expect(fields(() => parseTlsBundle(bundle(g.certificate, encrypted, 'wrong')))).toEqual({ private_key_passphrase: [CERT_MESSAGES.passphraseWrong] });
    const ok = parseTlsBundle(bundle(g.certificate, encrypted, 'secret phrase'));
    expect(ok.privateKey).toContain('-----BEGIN PRIVATE KEY-----');
    // Traditional OpenSSL encryption ("Proc-Type: 4,ENCRYPTED") too.
    const legacy = forge.pki.encryptRsaPrivateKey(forge.pki.privateKeyFromPem(g.privateKey), 'pw', { legacy: true, algorithm: 'aes128' });
    expect(fields(() => parseTlsBundle(bundle(g.certificate, legacy)))).toEqual({ private_key_passphrase: [CERT_MESSAGES.passphraseRequired] });
    expect(parseTlsBundle(bundle(g.certificate, legacy, 'pw')).leaf.info.subject_name).toBe('px01.vc.example.com');
  });

  it('accepts RSA and ECDSA keys only', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(fields(() => loadPrivateKey(pemBlocks(ed)[0]!, ''))).toEqual({ private_key: [CERT_MESSAGES.keyType] });
  });

  it('reports expiring (within 30 days) and expired certificates', () => {
    const now = new Date();
    const soon = parseCertificates(generateSelfSigned({ commonName: 'soon.example.com', days: 10 }).certificate).certificates[0]!.info;
    expect(expiryStatus(soon.end_date, now)).toBe('expiring');
    expect(certificateStatus(soon, new Date(soon.start_date))).toBe('10 days left');
    const past = parseCertificates(generateSelfSigned({ commonName: 'old.example.com', days: 5, notBefore: new Date(now.getTime() - 10 * DAY) }).certificate)
      .certificates[0]!.info;
    expect(expiryStatus(past.end_date, now)).toBe('expired');
    expect(certificateStatus(past, now)).toBe('Expired');
    const end = new Date(now.getTime() + 30 * DAY);
    expect(expiryStatus(end, now)).toBe('expiring');
    expect(expiryStatus(end, new Date(now.getTime() - 1_000))).toBe('ok');
    expect(expiryStatus(now, now)).toBe('expired');
  });

  it('validates the self-signed form', () => {
    expect(fields(() => generateSelfSigned({ commonName: 'bad name!' }))).toEqual({ common_name: [CERT_MESSAGES.commonName] });
    expect(fields(() => generateSelfSigned({ commonName: 'ok.example.com', subjectAltNames: ['no spaces allowed'] }))).toEqual({
      subject_alt_names: [CERT_MESSAGES.san('no spaces allowed')],
    });
    expect(fields(() => generateSelfSigned({ commonName: 'ok.example.com', days: 0 }))).toEqual({ days: [CERT_MESSAGES.days] });
  });
});

const BASE = '/api/admin/configuration/v1';

describe.each(TEST_DATABASES)('certificate management API on $name', ({ open }) => {
  let server: ManagementServer;
  let app: FastifyInstance;
  let url: string;
  const responses: string[] = [];
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(url + path, {
      ...init,
      headers: { authorization: auth, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  const post = (resource: string, body: unknown) => api(`${BASE}/${resource}/`, { method: 'POST', body: JSON.stringify(body) });
  const g = generateSelfSigned({ commonName: 'api.example.com', subjectAltNames: ['alt.example.com'] });
  const keyBody = g.privateKey.split('\n')[1]!;
  let nodeIds: number[] = [];

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    app = Fastify();
    registerCertificateRoutes(app, server.dom);
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    const [loc] = await server.dom.db.insert(systemLocation).values({ name: 'Cert location' }).returning();
    const nodes = await server.dom.db
      .insert(conferencingNode)
      .values([1, 2].map((i) => ({ name: `cert-node-${i}`, hostname: `cn${i}`, address: `10.0.0.${i}`, systemLocationId: loc!.id })))
      .returning();
    nodeIds = nodes.map((n) => n.id);
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('refuses requests without valid credentials', async () => {
    expect((await fetch(`${url}${BASE}/tls_certificate/`)).status).toBe(401);
    const wrong = await fetch(`${url}${BASE}/ca_certificate/`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
  });

  it('uploads, reads, lists, refuses a duplicate, patches nodes and deletes a TLS certificate', async () => {
    const created = await post('tls_certificate', { certificate: g.certificate, private_key: g.privateKey, nodes: [`${BASE}/worker_vm/${nodeIds[0]}/`] });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${BASE}/tls_certificate/\\d+/$`));
    const got = (await api(location)).json();
    expect(got).toMatchObject({
      subject_name: 'api.example.com',
      issuer_name: 'api.example.com',
      subject_alt_names: 'DNS:api.example.com, DNS:alt.example.com',
      nodes: [`${BASE}/worker_vm/${nodeIds[0]}/`],
      parameters: '',
      resource_uri: location,
    });
    expect(got.start_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(got.subject_hash).toMatch(/^[0-9a-f]{8}$/);
    expect(got.certificate).toContain('BEGIN CERTIFICATE');
    expect(got).not.toHaveProperty('private_key');
    expect(got).not.toHaveProperty('private_key_passphrase');

    const list = (await api(`${BASE}/tls_certificate/?subject_name__icontains=API.example`)).json();
    expect(list.meta).toMatchObject({ total_count: 1, offset: 0 });
    expect(list.objects[0].resource_uri).toBe(location);

    const dup = await post('tls_certificate', { certificate: g.certificate, private_key: g.privateKey });
    expect(dup.status).toBe(400);
    expect(dup.json()).toEqual({ certificate: [CERT_MESSAGES.duplicate] });

    // The node gets the certificate with its key (the config push), which the API never shows.
    expect((await tlsCertificateForNode(server.dom.db, nodeIds[0]!))?.private_key).toContain(keyBody);

    // Assigning the node to another certificate takes it from the first (guide: replaces).
    const other = generateSelfSigned({ commonName: 'other.example.com' });
    const second = await post('tls_certificate', { certificate: other.certificate, private_key: other.privateKey, nodes: [nodeIds[1]] });
    expect(second.status).toBe(201);
    const secondUri = second.headers.get('location')!;
    expect(
      (await api(secondUri, { method: 'PATCH', body: JSON.stringify({ nodes: [`${BASE}/worker_vm/${nodeIds[0]}/`, `${BASE}/worker_vm/${nodeIds[1]}/`] }) }))
        .status,
    ).toBe(202);
    expect((await api(location)).json().nodes).toEqual([]);
    expect((await api(secondUri)).json().nodes).toHaveLength(2);
    const badNode = await api(secondUri, { method: 'PATCH', body: JSON.stringify({ nodes: [`${BASE}/worker_vm/999999/`] }) });
    expect(badNode.status).toBe(400);
    expect(badNode.json().nodes[0]).toContain('Select a valid choice.');

    // Replacing the PEM data with a certificate for another key is refused.
    const mismatch = await api(secondUri, { method: 'PATCH', body: JSON.stringify({ certificate: g.certificate }) });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json()).toEqual({ certificate: [CERT_MESSAGES.keyMismatch] });

    expect((await api(location, { method: 'DELETE' })).status).toBe(204);
    expect((await api(location)).status).toBe(404);
    expect((await api(location, { method: 'DELETE' })).status).toBe(404);
    expect((await api(secondUri, { method: 'DELETE' })).status).toBe(204);
  });

  it('keeps one assignment: worker_vm tls_certificate and the certificate nodes list always agree', async () => {
    // The full management API (worker_vm lives there), not just the certificate routes.
    const full = (path: string, init: RequestInit = {}) =>
      fetch(server.url + path, { ...init, headers: { authorization: auth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const patchNode = (id: number, body: unknown) => full(`${BASE}/worker_vm/${id}/`, { method: 'PATCH', body: JSON.stringify(body) });
    const nodeCert = async (id: number) => (await (await full(`${BASE}/worker_vm/${id}/`)).json()).tls_certificate;
    const certNodes = async (uri: string) => (await (await full(uri)).json()).nodes;
    const a = generateSelfSigned({ commonName: 'a.example.com' });
    const b = generateSelfSigned({ commonName: 'b.example.com' });
    const aUri = (await post('tls_certificate', { certificate: a.certificate, private_key: a.privateKey })).headers.get('location')!;
    const bUri = (await post('tls_certificate', { certificate: b.certificate, private_key: b.privateKey, nodes: [nodeIds[1]] })).headers.get('location')!;
    const [n0, n1] = nodeIds as [number, number];

    // Set from the node's side: the certificate's nodes list shows it.
    expect((await patchNode(n0, { tls_certificate: aUri })).status).toBe(202);
    expect(await nodeCert(n0)).toBe(aUri);
    expect(await certNodes(aUri)).toEqual([`${BASE}/worker_vm/${n0}/`]);
    // Set from the certificate's side: the node shows it.
    expect(await nodeCert(n1)).toBe(bUri);
    // Moving node 1 to certificate A from the node's side takes it from B.
    expect((await patchNode(n1, { tls_certificate: aUri })).status).toBe(202);
    expect(await certNodes(bUri)).toEqual([]);
    expect(await certNodes(aUri)).toEqual([`${BASE}/worker_vm/${n0}/`, `${BASE}/worker_vm/${n1}/`]);
    // Clearing it on the node clears it on the certificate; a certificate that does not exist is refused.
    expect((await patchNode(n0, { tls_certificate: null })).status).toBe(202);
    expect(await nodeCert(n0)).toBeNull();
    expect(await certNodes(aUri)).toEqual([`${BASE}/worker_vm/${n1}/`]);
    expect((await patchNode(n0, { tls_certificate: `${BASE}/tls_certificate/999999/` })).status).toBe(400);
    // The list shows the same thing as the detail.
    const list = await (await full(`${BASE}/worker_vm/?limit=50`)).json();
    expect(list.objects.find((o: { id: number }) => o.id === n1).tls_certificate).toBe(aUri);
    // Deleting the certificate leaves the node with none.
    expect((await full(aUri, { method: 'DELETE' })).status).toBe(204);
    expect(await nodeCert(n1)).toBeNull();
    expect((await full(bUri, { method: 'DELETE' })).status).toBe(204);
  });

  it('answers invalid uploads with 400 and field → messages', async () => {
    const other = generateSelfSigned({ commonName: 'x.example.com' });
    const mismatch = await post('tls_certificate', { certificate: g.certificate, private_key: other.privateKey });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json()).toEqual({ private_key: [CERT_MESSAGES.keyMismatch] });
    const garbage = await post('tls_certificate', { certificate: 'garbage', private_key: 'garbage' });
    expect(garbage.status).toBe(400);
    expect(garbage.json()).toEqual({ certificate: [CERT_MESSAGES.notPem], private_key: [CERT_MESSAGES.keyNotPem] });
    const encrypted = createPrivateKey(g.privateKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pp' }).toString();
    expect((await post('tls_certificate', { certificate: g.certificate, private_key: encrypted })).json()).toEqual({
      private_key_passphrase: [CERT_MESSAGES.passphraseRequired],
    });
    const ok = await post('tls_certificate', { certificate: g.certificate, private_key: encrypted, private_key_passphrase: 'pp' });
    expect(ok.status).toBe(201);
    expect((await api(ok.headers.get('location')!, { method: 'DELETE' })).status).toBe(204);
  });

  it('imports a PEM bundle of trusted CA certificates, one object each', async () => {
    const a = caAndLeaf('a.example.com');
    const b = caAndLeaf('b.example.com');
    const created = await post('ca_certificate', { certificate: `${a.ca}${b.ca}` });
    expect(created.status).toBe(201);
    const list = (await api(`${BASE}/ca_certificate/`)).json();
    expect(list.objects.map((o: { subject_name: string }) => o.subject_name)).toEqual(['a.example.com Root CA', 'b.example.com Root CA']);
    expect(list.objects[0]).toMatchObject({
      issuer_name: 'a.example.com Root CA',
      trusted_intermediate: false,
      raw_subject: 'CN=a.example.com Root CA, O=Test CA',
    });
    expect(created.headers.get('location')).toBe(list.objects[0].resource_uri);
    expect(await trustedCaBundle(server.dom.db)).toContain('BEGIN CERTIFICATE');

    const dup = await post('ca_certificate', { certificate: a.ca });
    expect(dup.status).toBe(400);
    expect(dup.json()).toEqual({ certificate: [CERT_MESSAGES.duplicate] });
    const withKey = await post('ca_certificate', { certificate: `${a.leaf}${a.leafKey}` });
    expect(withKey.json()).toEqual({ certificate: [CERT_MESSAGES.caWithKey] });

    for (const o of list.objects) expect((await api(o.resource_uri, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`${BASE}/ca_certificate/`)).json().meta.total_count).toBe(0);
  });

  it('raises the guide alarms for certificates expiring within 30 days or expired', async () => {
    const soon = generateSelfSigned({ commonName: 'soon.example.com', days: 20 });
    const gone = generateSelfSigned({ commonName: 'gone.example.com', days: 2, notBefore: new Date(Date.now() - 5 * DAY) });
    const fine = generateSelfSigned({ commonName: 'fine.example.com', days: 200 });
    for (const c of [soon, gone, fine]) expect((await post('tls_certificate', { certificate: c.certificate, private_key: c.privateKey })).status).toBe(201);
    const expiredCa = caAndLeaf('expired-ca');
    expect((await post('ca_certificate', { certificate: expiredCa.ca })).status).toBe(201);

    const alarms = await certificateAlarms(server.dom);
    expect(alarms.map((a) => [a.subject_name, a.expiry, a.alarm, a.level])).toEqual([
      ['gone.example.com', 'expired', 'tls_certificate_expiring', 'warning'],
      ['soon.example.com', 'expiring', 'tls_certificate_expiring', 'warning'],
    ]);
    expect(alarms[0]!.message).toBe('One or more of your TLS certificates is due to expire within the next 30 days, or has already expired.');
    // Ten years on, the CA has expired too.
    const later = await certificateAlarms(server.dom, new Date(Date.now() + 3_700 * DAY));
    expect(later.find((a) => a.resource === 'ca_certificate')).toMatchObject({
      name: 'Trusted CA certificates expiring',
      identifier: 6,
      alarm: 'trustedca_expiring',
      expiry: 'expired',
    });
  });

  it('serves the console through tRPC: generate, list, alarms; validation errors carry fields', async () => {
    const c = appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
      sessionToken: undefined,
      setCookie: () => {},
    });
    const made = await c.certificate.tls.generate({ common_name: 'trpc.example.com', subject_alt_names: ['www.trpc.example.com'], nodes: [nodeIds[0]!] });
    expect(made).toMatchObject({ subject_name: 'trpc.example.com', status: 'Temporary', expiry: 'ok', nodes: [nodeIds[0]] });
    expect(JSON.stringify(made)).not.toContain('PRIVATE KEY');
    const listed = await c.certificate.tls.list({ search: 'trpc' });
    expect(listed.map((x) => x.id)).toEqual([made.id]);
    expect(JSON.stringify(listed)).not.toContain('PRIVATE KEY');
    const err = await c.certificate.tls.create({ certificate: 'nope', private_key: '' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err as { cause: AppError }).cause.fields).toEqual({ certificate: [CERT_MESSAGES.notPem], private_key: [CERT_MESSAGES.required] });
    const readOnly = appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 2, username: 'viewer', mayUseWeb: true, mayUseApi: true, permissions: ['is_administrator', 'may_use_web', 'view_system'] },
      sessionToken: undefined,
      setCookie: () => {},
    });
    expect((await readOnly.certificate.tls.list({})).length).toBeGreaterThan(0);
    await expect(readOnly.certificate.tls.delete({ id: made.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await c.certificate.tls.delete({ id: made.id })).toBe(true);
  });

  it('never shows or logs a private key', async () => {
    for (const text of responses) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(keyBody);
    }
    const log = JSON.stringify(await server.dom.db.select().from(adminLog));
    expect(log).toContain('TLS certificate');
    expect(log).toContain('Trusted CA certificate');
    expect(log).not.toContain('PRIVATE KEY');
    expect(log).not.toContain('private_key');
  });
});
