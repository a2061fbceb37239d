import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { z } from 'zod';
import { BACKUP_MESSAGES } from '../../shared/backup/backup.schema.js';
import { AppError } from '../errors/AppError.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;
const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/**
 * File layout: MAGIC (8) | format (1) | salt (16) | IV (12) | GCM tag (16) | ciphertext.
 * The header before the tag is authenticated too, so a changed byte anywhere fails the open.
 */
const MAGIC = Buffer.from('OMBACKUP', 'ascii');
const FORMAT = 1;
const SALT_LEN = 16;
const IV_LEN = 12;
const TAG_LEN = 16;
const HEADER_LEN = MAGIC.length + 1 + SALT_LEN + IV_LEN;
// scrypt cost: ~50-100 ms per backup or restore; fixed per format version.
const SCRYPT: ScryptOptions = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export const PRODUCT = 'openmeet';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const journal = JSON.parse(readFileSync(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: { tag: string }[] };

/** The running software version (package.json). */
export const SOFTWARE_VERSION: string = packageJson.version;
/** The database schema the running software migrates to: the latest migration's tag. */
export const SCHEMA_VERSION: string = journal.entries.at(-1)?.tag ?? '';

export const backupPayloadSchema = z.object({
  product: z.literal(PRODUCT),
  version: z.string(),
  schema: z.string(),
  createdAt: z.string(),
  /** Table name → rows as Postgres renders them in JSON (column names, bytea as `\x…`). */
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});
export type BackupPayload = z.infer<typeof backupPayloadSchema>;

const restoreError = (fields: Record<string, string[]>) => new AppError('BAD_REQUEST', BACKUP_MESSAGES.restoreFailed, fields);
const notBackup = () => restoreError({ archive: [BACKUP_MESSAGES.notBackup] });

const deriveKey = (passphrase: string, salt: Buffer) => scrypt(passphrase.normalize('NFC'), salt, 32, SCRYPT);

/** Compresses and encrypts a payload with a key derived from the passphrase. */
export async function seal(payload: BackupPayload, passphrase: string): Promise<Buffer> {
  const salt = randomBytes(SALT_LEN);
  const iv = randomBytes(IV_LEN);
  const header = Buffer.concat([MAGIC, Buffer.from([FORMAT]), salt, iv]);
  const key = await deriveKey(passphrase, salt);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
  cipher.setAAD(header);
  const compressed = await gzip(Buffer.from(JSON.stringify(payload), 'utf8'));
  const body = Buffer.concat([cipher.update(compressed), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), body]);
}

/**
 * Decrypts and checks an archive. A wrong passphrase and a tampered file look the same to
 * AES-GCM, so both get the guide's "Decryption Error: decryption failed" beside the passphrase.
 */
export async function open(archive: Buffer, passphrase: string): Promise<BackupPayload> {
  if (archive.length < HEADER_LEN + TAG_LEN || !archive.subarray(0, MAGIC.length).equals(MAGIC) || archive[MAGIC.length] !== FORMAT) {
    throw notBackup();
  }
  const header = archive.subarray(0, HEADER_LEN);
  const salt = archive.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_LEN);
  const iv = archive.subarray(MAGIC.length + 1 + SALT_LEN, HEADER_LEN);
  const tag = archive.subarray(HEADER_LEN, HEADER_LEN + TAG_LEN);
  const key = await deriveKey(passphrase, salt);
  let compressed: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    compressed = Buffer.concat([decipher.update(archive.subarray(HEADER_LEN + TAG_LEN)), decipher.final()]);
  } catch {
    throw restoreError({ passphrase: [BACKUP_MESSAGES.decryption] });
  }
  let json: unknown;
  try {
    json = JSON.parse((await gunzip(compressed)).toString('utf8'));
  } catch {
    throw notBackup();
  }
  const parsed = backupPayloadSchema.safeParse(json);
  if (!parsed.success) throw notBackup();
  return parsed.data;
}

/** Refuses an archive made by another software version or for another database schema. */
export function assertSameVersion(payload: BackupPayload): void {
  if (payload.version !== SOFTWARE_VERSION || payload.schema !== SCHEMA_VERSION) {
    const theirs = payload.version === SOFTWARE_VERSION ? `${payload.version} (schema ${payload.schema})` : payload.version;
    const ours = payload.version === SOFTWARE_VERSION ? `${SOFTWARE_VERSION} (schema ${SCHEMA_VERSION})` : SOFTWARE_VERSION;
    throw restoreError({ archive: [BACKUP_MESSAGES.otherVersion(theirs, ours)] });
  }
}
