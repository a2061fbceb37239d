import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { AppError } from '../errors/AppError.js';

/**
 * PEM handling for TLS and trusted CA certificates (guide: Platform > TLS Certificates).
 * Node's X509Certificate decodes the certificates (RSA and ECDSA alike); node-forge's DER reader
 * supplies what Node does not expose (names in order, OpenSSL name hashes, key identifiers,
 * signature algorithm), and node-forge signs the self-signed certificates.
 */

export const CERT_MESSAGES = {
  required: 'This field is required.',
  notPem: 'The certificate is not valid PEM.',
  csr: 'This is a certificate signing request (CSR). Upload the certificate issued by the Certificate Authority instead.',
  keyNotPem: 'The private key is not valid PEM.',
  oneKey: 'Enter only one private key.',
  keyType: 'Pexip Infinity supports RSA and ECDSA keys only.',
  passphraseRequired: 'The private key is encrypted: enter its passphrase.',
  passphraseWrong: 'The passphrase does not decrypt the private key.',
  /** The guide's words (Utilities > Certificate Signing Requests, and troubleshooting). */
  keyMismatch: 'Certificate and private key do not appear to be part of the same key pair',
  parameters: 'Enter PEM-formatted DH parameters and/or an EC curve name (EC PARAMETERS) only.',
  duplicate: 'This certificate has already been uploaded.',
  caWithKey: 'Trusted CA certificates must not include a private key.',
  commonName: 'Enter a valid common name (a host name, FQDN or IP address, at most 64 characters).',
  san: (v: string) => `"${v}" is not a valid host name, FQDN or IP address.`,
  days: 'Ensure this value is between 1 and 825.',
} as const;

/** TLS and trusted CA certificate expiry alarms fire this many days ahead (guide: alarms, 30 days). */
export const EXPIRY_ALARM_DAYS = 30;
/** The certificate list shows "<n> days left" this many days ahead (guide: status values, 60 days). */
export const STATUS_DAYS_LEFT = 60;
const DAY_MS = 86_400_000;

export type ExpiryStatus = 'ok' | 'expiring' | 'expired';

export function expiryStatus(endDate: Date | string, now: Date = new Date()): ExpiryStatus {
  const end = typeof endDate === 'string' ? new Date(endDate) : endDate;
  const left = end.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  return left <= EXPIRY_ALARM_DAYS * DAY_MS ? 'expiring' : 'ok';
}

// --- PEM blocks -----------------------------------------------------------------------------

export interface PemBlock {
  type: string;
  /** The whole block, normalised (LF line ends, trimmed). */
  pem: string;
  der: Buffer;
  encrypted: boolean;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 .]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every PEM block in a text; anything between blocks is ignored (as OpenSSL does). */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.replace(/\r\n?/g, '\n').matchAll(BLOCK_RE)) {
    const type = m[1]!;
    const body = m[2]!;
    const headers = body.includes(':') ? body.split('\n\n')[0]! : '';
    const b64 = (headers ? body.slice(headers.length) : body).replace(/\s+/g, '');
    out.push({
      type,
      pem: m[0].trim(),
      der: Buffer.from(b64, 'base64'),
      encrypted: type === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(headers),
    });
  }
  return out;
}

const CERT_TYPES = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);
const KEY_TYPES = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
const CSR_TYPES = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const PARAM_TYPES = new Set(['DH PARAMETERS', 'X9.42 DH PARAMETERS', 'EC PARAMETERS']);

export interface SplitPem {
  certificates: PemBlock[];
  keys: PemBlock[];
  parameters: PemBlock[];
  csrs: PemBlock[];
  other: PemBlock[];
}

export function splitPem(text: string): SplitPem {
  const s: SplitPem = { certificates: [], keys: [], parameters: [], csrs: [], other: [] };
  for (const b of pemBlocks(text)) {
    if (CERT_TYPES.has(b.type)) s.certificates.push(b);
    else if (KEY_TYPES.has(b.type)) s.keys.push(b);
    else if (PARAM_TYPES.has(b.type)) s.parameters.push(b);
    else if (CSR_TYPES.has(b.type)) s.csrs.push(b);
    else s.other.push(b);
  }
  return s;
}

// --- DER details Node does not expose ---------------------------------------------------------

type Asn1 = forge.asn1.Asn1;
const A = forge.asn1;

function asn1Of(der: Buffer | string): Asn1 {
  return A.fromDer(forge.util.createBuffer(typeof der === 'string' ? der : der.toString('binary')));
}
const children = (n: Asn1): Asn1[] => (Array.isArray(n.value) ? (n.value as Asn1[]) : []);
const bytesOf = (n: Asn1): string => (typeof n.value === 'string' ? n.value : '');

const NAME_KEYS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const SIG_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
};
const WEAK_SIGNATURES = new Set(['1.2.840.113549.1.1.4', '1.2.840.113549.1.1.5', '1.2.840.10045.4.1', '1.2.840.113549.1.1.2', '1.2.840.113549.1.1.3']);

/** Decoded string value of an AttributeTypeAndValue. */
function stringValue(v: Asn1): string {
  const raw = bytesOf(v);
  if (v.type === A.Type.BMPSTRING) return Buffer.from(raw, 'binary').swap16().toString('utf16le');
  if ((v.type as number) === 28 /* UniversalString */) {
    const b = Buffer.from(raw, 'binary');
    let s = '';
    for (let i = 0; i + 3 < b.length; i += 4) s += String.fromCodePoint(b.readUInt32BE(i));
    return s;
  }
  if (v.type === A.Type.UTF8) return Buffer.from(raw, 'binary').toString('utf8');
  return Buffer.from(raw, 'binary').toString('latin1');
}

interface NameAttr {
  oid: string;
  key: string;
  value: string;
}

function nameAttrs(name: Asn1): NameAttr[] {
  const out: NameAttr[] = [];
  for (const rdn of children(name)) {
    for (const ava of children(rdn)) {
      const [oidNode, valueNode] = children(ava);
      if (!oidNode || !valueNode) continue;
      const oid = A.derToOid(forge.util.createBuffer(bytesOf(oidNode)));
      out.push({ oid, key: NAME_KEYS[oid] ?? oid, value: stringValue(valueNode) });
    }
  }
  return out;
}

const escapeDn = (v: string) => v.replace(/([,+"\\<>;])/g, '\\$1');
const dnString = (attrs: NameAttr[]) => attrs.map((a) => `${a.key}=${escapeDn(a.value)}`).join(', ');

// String types OpenSSL canonicalises before hashing a name (ASN1_MASK_CANON).
const CANON_TYPES = new Set<number>([A.Type.UTF8, A.Type.BMPSTRING, 28, A.Type.PRINTABLESTRING, 20, A.Type.IA5STRING, 26]);

function canonValue(s: string): string {
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
  let out = '';
  let i = 0;
  let end = s.length;
  while (i < end && isSpace(s[i]!)) i++;
  while (end > i && isSpace(s[end - 1]!)) end--;
  while (i < end) {
    const c = s[i]!;
    if (isSpace(c)) {
      out += ' ';
      while (i < end && isSpace(s[i]!)) i++;
    } else {
      out += c.charCodeAt(0) < 128 ? c.toLowerCase() : c;
      i++;
    }
  }
  return out;
}

/** DER tag-length-value over a binary string. */
function tlv(tag: number, content: string): string {
  let len = '';
  if (content.length < 0x80) len = String.fromCharCode(content.length);
  else {
    for (let n = content.length; n > 0; n >>= 8) len = String.fromCharCode(n & 0xff) + len;
    len = String.fromCharCode(0x80 | len.length) + len;
  }
  return String.fromCharCode(tag) + len + content;
}

function cmpBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
  return a.length - b.length;
}

/** OpenSSL's `X509_NAME_hash` (what `openssl x509 -subject_hash` prints and c_rehash names files by). */
export function opensslNameHash(name: Asn1): string {
  let canon = '';
  for (const rdn of children(name)) {
    const avas = children(rdn).map((ava) => {
      const [oidNode, valueNode] = children(ava);
      const value =
        valueNode && CANON_TYPES.has(valueNode.type) && valueNode.tagClass === A.Class.UNIVERSAL
          ? A.create(A.Class.UNIVERSAL, A.Type.UTF8, false, forge.util.encodeUtf8(canonValue(stringValue(valueNode))))
          : valueNode!;
      return A.toDer(A.create(A.Class.UNIVERSAL, A.Type.SEQUENCE, true, [oidNode!, value])).getBytes();
    });
    avas.sort(cmpBytes);
    canon += tlv(0x31, avas.join(''));
  }
  const md = createHash('sha1').update(Buffer.from(canon, 'binary')).digest();
  return md.readUInt32LE(0).toString(16).padStart(8, '0');
}

interface DerDetails {
  subject: NameAttr[];
  issuer: NameAttr[];
  subjectHash: string;
  issuerHash: string;
  signatureOid: string;
  keyId: string | null;
  issuerKeyId: string | null;
}

const hexColons = (bin: string) =>
  Buffer.from(bin, 'binary')
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');

function derDetails(raw: Buffer): DerDetails {
  const cert = asn1Of(raw);
  const [tbs, sigAlg] = children(cert);
  const t = children(tbs!);
  const o = t[0]?.tagClass === A.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const issuer = t[o + 2]!;
  const subject = t[o + 4]!;
  let keyId: string | null = null;
  let issuerKeyId: string | null = null;
  const extsWrapper = t.find((n) => n.tagClass === A.Class.CONTEXT_SPECIFIC && n.type === 3);
  for (const ext of extsWrapper ? children(children(extsWrapper)[0]!) : []) {
    const parts = children(ext);
    const oid = A.derToOid(forge.util.createBuffer(bytesOf(parts[0]!)));
    const octets = bytesOf(parts[parts.length - 1]!);
    if (oid === '2.5.29.14') keyId = hexColons(bytesOf(asn1Of(octets)));
    if (oid === '2.5.29.35') {
      const id = children(asn1Of(octets)).find((n) => n.tagClass === A.Class.CONTEXT_SPECIFIC && n.type === 0);
      if (id) issuerKeyId = hexColons(bytesOf(id));
    }
  }
  return {
    subject: nameAttrs(subject),
    issuer: nameAttrs(issuer),
    subjectHash: opensslNameHash(subject),
    issuerHash: opensslNameHash(issuer),
    signatureOid: A.derToOid(forge.util.createBuffer(bytesOf(children(sigAlg!)[0]!))),
    keyId,
    issuerKeyId,
  };
}

// --- Certificates ---------------------------------------------------------------------------

/** What the API and the console show of a certificate (the management API's field names). */
export interface CertificateInfo {
  subject_name: string;
  raw_subject: string;
  subject_hash: string;
  subject_alt_names: string;
  issuer_name: string;
  raw_issuer: string;
  issuer_hash: string;
  serial_no: string;
  start_date: string;
  end_date: string;
  key_id: string | null;
  issuer_key_id: string | null;
  /** SHA-256 fingerprint, `AB:CD:...`; the storage's uniqueness key. */
  fingerprint: string;
  key_type: string;
  key_size: number | null;
  signature_algorithm: string;
  weak_signature: boolean;
  self_signed: boolean;
  is_ca: boolean;
  text: string;
}

export interface ParsedCertificate {
  pem: string;
  x509: X509Certificate;
  info: CertificateInfo;
}

function keyDescription(key: KeyObject): { type: string; size: number | null; detail: string } {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { type: 'RSA', size: d.modulusLength ?? null, detail: `RSA (${d.modulusLength ?? '?'} bit)` };
    case 'ec':
      return { type: 'ECDSA', size: curveBits(d.namedCurve), detail: `ECDSA (${d.namedCurve ?? 'unknown curve'})` };
    default:
      return { type: (key.asymmetricKeyType ?? 'unknown').toUpperCase(), size: null, detail: key.asymmetricKeyType ?? 'unknown' };
  }
}
function curveBits(curve: string | undefined): number | null {
  const m = /(\d{3})/.exec(curve ?? '');
  return m ? Number(m[1]) : null;
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'TLS Web Server Authentication',
  '1.3.6.1.5.5.7.3.2': 'TLS Web Client Authentication',
};

/** Decimal serial number, as Python's cryptography (and so Pexip) prints it. */
const decimalSerial = (hex: string) => BigInt(`0x${hex || '0'}`).toString(10);

function describe(x509: X509Certificate, d: DerDetails, info: Omit<CertificateInfo, 'text'>): string {
  const pub = keyDescription(x509.publicKey);
  const lines = [
    'Certificate:',
    `    Serial Number: ${info.serial_no} (0x${x509.serialNumber.toLowerCase()})`,
    `    Signature Algorithm: ${info.signature_algorithm}`,
    `    Issuer: ${info.raw_issuer}`,
    '    Validity',
    `        Not Before: ${x509.validFrom}`,
    `        Not After : ${x509.validTo}`,
    `    Subject: ${info.raw_subject}`,
    `    Subject Public Key Info: ${pub.detail}`,
  ];
  if (info.subject_alt_names) lines.push(`    X509v3 Subject Alternative Name: ${info.subject_alt_names}`);
  if (x509.keyUsage?.length) lines.push(`    X509v3 Extended Key Usage: ${x509.keyUsage.map((u) => EKU_NAMES[u] ?? u).join(', ')}`);
  lines.push(`    X509v3 Basic Constraints: CA:${x509.ca ? 'TRUE' : 'FALSE'}`);
  if (d.keyId) lines.push(`    X509v3 Subject Key Identifier: ${d.keyId}`);
  if (d.issuerKeyId) lines.push(`    X509v3 Authority Key Identifier: ${d.issuerKeyId}`);
  lines.push(`    SHA-256 Fingerprint: ${info.fingerprint}`);
  return lines.join('\n');
}

/** Decodes one certificate block; throws a `certificate` field error when it is not one. */
export function parseCertificate(block: PemBlock | string, field = 'certificate'): ParsedCertificate {
  let x509: X509Certificate;
  let d: DerDetails;
  try {
    x509 = new X509Certificate(typeof block === 'string' ? block : block.der);
    d = derDetails(x509.raw);
  } catch {
    throw AppError.validation({ [field]: [CERT_MESSAGES.notPem] });
  }
  const cn = d.subject.filter((a) => a.key === 'CN').map((a) => a.value);
  const raw_subject = dnString(d.subject);
  const sans = x509.subjectAltName ?? '';
  const selfSigned = (() => {
    try {
      // Not checkIssued: OpenSSL's issuer check also wants keyCertSign, which server certificates lack.
      return d.subjectHash === d.issuerHash && dnString(d.subject) === dnString(d.issuer) && x509.verify(x509.publicKey);
    } catch {
      return false;
    }
  })();
  const pub = keyDescription(x509.publicKey);
  const base: Omit<CertificateInfo, 'text'> = {
    // The list shows the common name; a certificate with only SANs ("Empty subject") shows its first SAN.
    subject_name:
      cn[cn.length - 1] ??
      (raw_subject ||
        sans
          .split(',')[0]
          ?.replace(/^[^:]*:/, '')
          .trim() ||
        ''),
    raw_subject,
    subject_hash: d.subjectHash,
    subject_alt_names: sans,
    issuer_name:
      d.issuer
        .filter((a) => a.key === 'CN')
        .map((a) => a.value)
        .pop() ?? dnString(d.issuer),
    raw_issuer: dnString(d.issuer),
    issuer_hash: d.issuerHash,
    serial_no: decimalSerial(x509.serialNumber),
    start_date: new Date(x509.validFrom).toISOString(),
    end_date: new Date(x509.validTo).toISOString(),
    key_id: d.keyId,
    issuer_key_id: d.issuerKeyId,
    fingerprint: x509.fingerprint256,
    key_type: pub.type,
    key_size: pub.size,
    signature_algorithm: SIG_NAMES[d.signatureOid] ?? d.signatureOid,
    weak_signature: WEAK_SIGNATURES.has(d.signatureOid),
    self_signed: selfSigned,
    is_ca: x509.ca,
  };
  return {
    pem: `-----BEGIN CERTIFICATE-----\n${x509.raw
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .replace(/\n$/, '')}\n-----END CERTIFICATE-----`,
    x509,
    info: { ...base, text: describe(x509, d, base) },
  };
}

/** Every certificate in a PEM text; field errors for a CSR, for no certificate, or for a block that does not decode. */
export function parseCertificates(text: string, field = 'certificate'): { certificates: ParsedCertificate[]; split: SplitPem } {
  const split = splitPem(text);
  if (split.csrs.length && !split.certificates.length) throw AppError.validation({ [field]: [CERT_MESSAGES.csr] });
  if (!split.certificates.length || split.other.length) throw AppError.validation({ [field]: [CERT_MESSAGES.notPem] });
  return { certificates: split.certificates.map((b) => parseCertificate(b, field)), split };
}

// --- Private keys ---------------------------------------------------------------------------

/** Loads a private key (decrypting it with the passphrase); only RSA and ECDSA keys are accepted. */
export function loadPrivateKey(block: PemBlock, passphrase: string): KeyObject {
  if (block.encrypted && !passphrase) throw AppError.validation({ private_key_passphrase: [CERT_MESSAGES.passphraseRequired] });
  let key: KeyObject;
  try {
    key = createPrivateKey(block.encrypted ? { key: block.pem, format: 'pem', passphrase } : { key: block.pem, format: 'pem' });
  } catch {
    throw AppError.validation(block.encrypted ? { private_key_passphrase: [CERT_MESSAGES.passphraseWrong] } : { private_key: [CERT_MESSAGES.keyNotPem] });
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') throw AppError.validation({ private_key: [CERT_MESSAGES.keyType] });
  return key;
}

function validParameters(blocks: PemBlock[]): boolean {
  return blocks.every((b) => {
    try {
      const n = asn1Of(b.der);
      return b.type === 'EC PARAMETERS' ? n.type === A.Type.OID || n.type === A.Type.SEQUENCE : n.type === A.Type.SEQUENCE;
    } catch {
      return false;
    }
  });
}

export interface TlsBundleInput {
  certificate: string;
  private_key: string;
  private_key_passphrase: string;
  parameters: string;
}

export interface TlsBundle {
  /** The certificate that pairs with the key first, then the other (chain) certificates as given. */
  certificate: string;
  leaf: ParsedCertificate;
  chain: ParsedCertificate[];
  /** Unencrypted PKCS#8, for the nodes; never shown. */
  privateKey: string;
  /** DH / EC parameters, from the field or appended to the certificate. */
  parameters: string;
}

/**
 * Validates an uploaded TLS certificate: the certificate text may hold the chain, DH/EC
 * parameters and even the private key (as the guide's "Import files" allows); one certificate must
 * pair with the private key. Every problem is reported beside its field.
 */
export function parseTlsBundle(input: TlsBundleInput): TlsBundle {
  const errors: Record<string, string[]> = {};
  if (!input.certificate.trim()) errors.certificate = [CERT_MESSAGES.required];
  const fromCert = input.certificate.trim() ? splitPem(input.certificate) : null;
  const keyBlocks = input.private_key.trim() ? splitPem(input.private_key) : null;
  const keys = [...(keyBlocks?.keys ?? []), ...(fromCert?.keys ?? [])];
  if (input.private_key.trim() && (!keyBlocks!.keys.length || keyBlocks!.certificates.length + keyBlocks!.other.length + keyBlocks!.csrs.length > 0)) {
    errors.private_key = [CERT_MESSAGES.keyNotPem];
  } else if (!keys.length && input.certificate.trim()) errors.private_key = [CERT_MESSAGES.required];
  else if (keys.length > 1) errors.private_key = [CERT_MESSAGES.oneKey];
  const paramBlocks = input.parameters.trim() ? splitPem(input.parameters) : null;
  if (
    paramBlocks &&
    (paramBlocks.parameters.length === 0 || paramBlocks.parameters.length !== pemBlocks(input.parameters).length || !validParameters(paramBlocks.parameters))
  ) {
    errors.parameters = [CERT_MESSAGES.parameters];
  }
  let certificates: ParsedCertificate[] = [];
  if (input.certificate.trim()) {
    try {
      certificates = parseCertificates(
        input.certificate
          .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '')
          .replace(/-----BEGIN [A-Z0-9. ]*PARAMETERS-----[\s\S]*?-----END [A-Z0-9. ]*PARAMETERS-----/g, ''),
      ).certificates;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      Object.assign(errors, err.fields);
    }
  }
  if (fromCert?.parameters.length && !validParameters(fromCert.parameters)) errors.certificate = [CERT_MESSAGES.parameters];
  if (Object.keys(errors).length) throw AppError.validation(errors);

  const key = loadPrivateKey(keys[0]!, input.private_key_passphrase);
  const leafIndex = certificates.findIndex((c) => c.x509.checkPrivateKey(key));
  if (leafIndex < 0) throw AppError.validation({ private_key: [CERT_MESSAGES.keyMismatch] });
  const leaf = certificates[leafIndex]!;
  const chain = certificates.filter((_, i) => i !== leafIndex);
  const parameters = [...(paramBlocks?.parameters ?? []), ...(fromCert?.parameters ?? [])].map((b) => b.pem).join('\n');
  return {
    certificate: [leaf, ...chain].map((c) => c.pem).join('\n') + '\n',
    leaf,
    chain,
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    parameters: parameters ? `${parameters}\n` : '',
  };
}

/** Whether the stored key still pairs with a replacement certificate. */
export function keyMatches(certificate: ParsedCertificate, privateKeyPem: string): boolean {
  try {
    return certificate.x509.checkPrivateKey(createPrivateKey(privateKeyPem));
  } catch {
    return false;
  }
}

// --- The guide's status column ---------------------------------------------------------------

/**
 * The guide's TLS certificate status: Expired, `<n> days left` (within 60 days), Temporary
 * (self-signed), Weak signature (SHA-1 or older), Empty subject (SANs only), `Over <n> days`
 * (valid > 825 days, or > 398 days when issued on/after 1 Sep 2020), else Good.
 */
export function certificateStatus(
  info: Pick<CertificateInfo, 'start_date' | 'end_date' | 'self_signed' | 'weak_signature' | 'raw_subject'>,
  now: Date = new Date(),
): string {
  const start = new Date(info.start_date).getTime();
  const end = new Date(info.end_date).getTime();
  if (end <= now.getTime()) return 'Expired';
  const left = Math.floor((end - now.getTime()) / DAY_MS);
  if (left <= STATUS_DAYS_LEFT) return `${left} days left`;
  if (info.self_signed) return 'Temporary';
  if (info.weak_signature) return 'Weak signature';
  if (!info.raw_subject) return 'Empty subject';
  const validity = Math.floor((end - start) / DAY_MS);
  if (validity > 825) return 'Over 825 days';
  if (start >= Date.UTC(2020, 8, 1) && validity > 398) return 'Over 398 days';
  return 'Good';
}

// --- Self-signed certificates -----------------------------------------------------------------

const HOST_RE = /^(?=.{1,253}$)(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
export const isHostOrIp = (v: string) => isIP(v) !== 0 || HOST_RE.test(v);

export interface SelfSignedOptions {
  commonName: string;
  subjectAltNames?: string[];
  /** Validity in days (default 365). */
  days?: number;
  /** Start of validity (default now); tests use past dates for expired certificates. */
  notBefore?: Date;
}

/**
 * A self-signed ("Temporary") TLS certificate: RSA 2048, SHA-256, server and client
 * authentication (the guide asks for both), the common name always among the SANs.
 */
export function generateSelfSigned(opts: SelfSignedOptions): { certificate: string; privateKey: string } {
  const cn = opts.commonName.trim();
  if (!cn || cn.length > 64 || !isHostOrIp(cn)) throw AppError.validation({ common_name: [CERT_MESSAGES.commonName] });
  const sans = [cn, ...(opts.subjectAltNames ?? []).map((s) => s.trim()).filter(Boolean)];
  const bad = sans.filter((s) => !isHostOrIp(s));
  if (bad.length) throw AppError.validation({ subject_alt_names: bad.map(CERT_MESSAGES.san) });
  const days = opts.days ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 825) throw AppError.validation({ days: [CERT_MESSAGES.days] });

  // Node generates the key (native, fast); forge builds and signs the certificate.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fKey = forge.pki.privateKeyFromPem(pkcs8) as forge.pki.rsa.PrivateKey;
  const fPub = forge.pki.publicKeyFromPem(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = fPub;
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive
  cert.serialNumber = serial.toString('hex');
  const notBefore = opts.notBefore ?? new Date();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + days * DAY_MS);
  const attrs = [{ name: 'commonName', value: cn }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const unique = [...new Set(sans.map((s) => s.toLowerCase()))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: unique.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(fKey, forge.md.sha256.create());
  return { certificate: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'), privateKey: pkcs8 };
}
