import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { managementVmResource } from '../../shared/config/resources/platform.js';
import { getSingletonRecord } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import { generateSelfSigned } from '../certificate/pem.js';
import { tlsCertificateKeyPair } from '../certificate/certificate.service.js';

export interface ManagementCertificate {
  /** PEM: the certificate and its chain. */
  cert: string;
  key: string;
  /** The platform's certificate store (Management Node > TLS certificate), or the one generated on first start. */
  source: 'store' | 'self-signed';
  /** SHA-256 of the leaf certificate, as `openssl x509 -fingerprint -sha256` prints it: a node may pin it. */
  fingerprint: string;
}

export const SELF_SIGNED_FILES = { cert: 'management.crt', key: 'management.key' };

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/**
 * The certificate the management server's HTTPS port serves: the TLS certificate assigned to the
 * Management Node in the platform's certificate store when there is one, else a self-signed one
 * generated on first start and kept in `<dir>/management.crt|key` (so nodes that pinned or trusted
 * it keep trusting it across restarts). `names` become its subject alternative names.
 */
export async function managementCertificate(dom: Domain, dir: string, names: readonly string[] = []): Promise<ManagementCertificate> {
  const vm = await getSingletonRecord(dom, managementVmResource);
  const id = typeof vm.tls_certificate === 'number' ? vm.tls_certificate : null;
  const stored = id === null ? null : await tlsCertificateKeyPair(dom.db, id);
  if (stored) return { cert: stored.certificate, key: stored.privateKey, source: 'store', fingerprint: fingerprintOf(stored.certificate) };

  const certFile = join(dir, SELF_SIGNED_FILES.cert);
  const keyFile = join(dir, SELF_SIGNED_FILES.key);
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { cert, key, source: 'self-signed', fingerprint: fingerprintOf(cert) };
  } catch {
    // First start (or the files were removed): generate.
  }
  const host = hostname().toLowerCase();
  // Listening on every interface: every address of this machine is a name clients may use.
  const wildcard = names.some((n) => n === '0.0.0.0' || n === '::');
  const local = wildcard
    ? Object.values(networkInterfaces()).flatMap((l) => (l ?? []).filter((i) => !i.internal && !i.address.startsWith('fe80')).map((i) => i.address))
    : [];
  const sans = [...new Set(['localhost', '127.0.0.1', '::1', ...local, ...names.filter((n) => n && n !== '0.0.0.0' && n !== '::')])].filter((n) => n !== host);
  const generated = generateSelfSigned({ commonName: /^[a-z0-9.-]{1,64}$/.test(host) ? host : 'localhost', subjectAltNames: sans, days: 825 });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, generated.privateKey, { mode: 0o600 });
  await writeFile(certFile, generated.certificate, { mode: 0o644 });
  return { cert: generated.certificate, key: generated.privateKey, source: 'self-signed', fingerprint: fingerprintOf(generated.certificate) };
}

/** A digest of what is served, to tell whether a configuration change replaced it. */
export const certificateDigest = (c: Pick<ManagementCertificate, 'cert' | 'key'>) => createHash('sha256').update(c.cert).update(c.key).digest('hex');
