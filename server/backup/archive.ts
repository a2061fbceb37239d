import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type DecipherGCM, type ScryptOptions } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { z } from 'zod';
import { BACKUP_MESSAGES } from '../../shared/backup/backup.schema.js';
import { AppError } from '../errors/AppError.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;
const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/**
 * File layout: MAGIC (8) | format (1) | salt (16) | IV (12) | GCM tag (16) | ciphertext.
 * The header before the tag is authenticated too, so a changed byte anywhere fails the open.
 * Format 1: the ciphertext is one gzipped JSON document. Format 2 (written now): gzipped lines, a
 * header line then one line per row, so a restore reads it row by row and never holds it whole.
 */
const MAGIC = Buffer.from('OMBACKUP', 'ascii');
const FORMAT_JSON = 1;
const FORMAT_LINES = 2;
const SALT_LEN = 16;
const IV_LEN = 12;
const TAG_LEN = 16;
const HEADER_LEN = MAGIC.length + 1 + SALT_LEN + IV_LEN;
// scrypt cost: ~50-100 ms per backup or restore; fixed per format version.
const SCRYPT: ScryptOptions = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
/** A line holds one row: a theme package (50 MB, hex in JSON) is the largest. */
const MAX_LINE_BYTES = 128 * 1024 * 1024;
/** Decompressed size of a whole archive: a gzip bomb stops here. */
const MAX_PLAIN_BYTES = 2 * 1024 * 1024 * 1024;
/** A format 1 archive is read whole: only small ones. */
const MAX_JSON_ARCHIVE_BYTES = 64 * 1024 * 1024;

export const PRODUCT = 'openmeet';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const journal = JSON.parse(readFileSync(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: { tag: string }[] };

/** The running software version (package.json). */
export const SOFTWARE_VERSION: string = packageJson.version;
/** The database schema the running software migrates to: the latest migration's tag. */
export const SCHEMA_VERSION: string = journal.entries.at(-1)?.tag ?? '';

const row = z.record(z.string(), z.unknown());

export const backupPayloadSchema = z.object({
  product: z.literal(PRODUCT),
  version: z.string(),
  schema: z.string(),
  createdAt: z.string(),
  /** Table name → rows as Postgres renders them in JSON (column names, bytea as `\x…`). */
  tables: z.record(z.string(), z.array(row)),
});
export type BackupPayload = z.infer<typeof backupPayloadSchema>;

/** The first line of a format 2 archive: what it is, and how many rows of each table follow. */
export const backupHeaderSchema = backupPayloadSchema.omit({ tables: true }).extend({ counts: z.record(z.string(), z.number().int().nonnegative()) });
export type BackupHeader = z.infer<typeof backupHeaderSchema>;
/** Every further line: [table, row]. */
const rowLineSchema = z.tuple([z.string(), row]);

/** An archive to open: in memory (the console, the stored backups) or a file on disk (an upload). */
export type ArchiveSource = Buffer | { path: string };

const restoreError = (fields: Record<string, string[]>) => new AppError('BAD_REQUEST', BACKUP_MESSAGES.restoreFailed, fields);
const notBackup = () => restoreError({ archive: [BACKUP_MESSAGES.notBackup] });
const decryptionFailed = () => restoreError({ passphrase: [BACKUP_MESSAGES.decryption] });

const deriveKey = (passphrase: string, salt: Buffer) => scrypt(passphrase.normalize('NFC'), salt, 32, SCRYPT);

/** Compresses and encrypts a payload with a key derived from the passphrase (format 2). */
export async function seal(payload: BackupPayload, passphrase: string): Promise<Buffer> {
  const salt = randomBytes(SALT_LEN);
  const iv = randomBytes(IV_LEN);
  const header = Buffer.concat([MAGIC, Buffer.from([FORMAT_LINES]), salt, iv]);
  const key = await deriveKey(passphrase, salt);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
  cipher.setAAD(header);
  const { tables, ...about } = payload;
  const first: BackupHeader = { ...about, counts: Object.fromEntries(Object.entries(tables).map(([t, rows]) => [t, rows.length])) };
  const lines = [JSON.stringify(first)];
  for (const [t, rows] of Object.entries(tables)) for (const r of rows) lines.push(JSON.stringify([t, r]));
  const compressed = await gzip(Buffer.from(lines.join('\n') + '\n', 'utf8'));
  const body = Buffer.concat([cipher.update(compressed), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), body]);
}

interface Opened {
  format: number;
  header: Buffer;
  key: Buffer;
  iv: Buffer;
  tag: Buffer;
  size: number;
}

async function readHead(src: ArchiveSource): Promise<{ head: Buffer; size: number }> {
  if (Buffer.isBuffer(src)) return { head: src.subarray(0, HEADER_LEN + TAG_LEN), size: src.length };
  const fh = await openFile(src.path, 'r');
  try {
    const head = Buffer.alloc(HEADER_LEN + TAG_LEN);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return { head: head.subarray(0, bytesRead), size: (await fh.stat()).size };
  } finally {
    await fh.close();
  }
}

async function openHead(src: ArchiveSource, passphrase: string): Promise<Opened> {
  const { head, size } = await readHead(src);
  const format = head[MAGIC.length];
  if (head.length < HEADER_LEN + TAG_LEN || !head.subarray(0, MAGIC.length).equals(MAGIC) || (format !== FORMAT_JSON && format !== FORMAT_LINES)) {
    throw notBackup();
  }
  const salt = head.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_LEN);
  return {
    format,
    header: head.subarray(0, HEADER_LEN),
    iv: head.subarray(MAGIC.length + 1 + SALT_LEN, HEADER_LEN),
    tag: head.subarray(HEADER_LEN, HEADER_LEN + TAG_LEN),
    key: await deriveKey(passphrase, salt),
    size,
  };
}

function decipherOf(o: Opened): DecipherGCM {
  const d = createDecipheriv('aes-256-gcm', o.key, o.iv, { authTagLength: TAG_LEN });
  d.setAAD(o.header);
  d.setAuthTag(o.tag);
  return d;
}

/** The ciphertext in 1 MB pieces, from memory or from the file. */
function ciphertext(src: ArchiveSource): Readable {
  const start = HEADER_LEN + TAG_LEN;
  if (!Buffer.isBuffer(src)) return createReadStream(src.path, { start, highWaterMark: 1024 * 1024 });
  return Readable.from(
    (function* () {
      for (let i = start; i < src.length; i += 1024 * 1024) yield src.subarray(i, Math.min(src.length, i + 1024 * 1024));
    })(),
  );
}

/**
 * Checks the passphrase and that no byte changed, reading the file once through without keeping
 * anything: AES-GCM tells only at the end, and nothing of the content is used before it has.
 * A wrong passphrase and a tampered file look the same to it, so both get the guide's
 * "Decryption Error: decryption failed" beside the passphrase.
 */
async function verify(src: ArchiveSource, o: Opened): Promise<void> {
  const d = decipherOf(o);
  try {
    for await (const chunk of ciphertext(src)) d.update(chunk as Buffer);
    d.final();
  } catch {
    throw decryptionFailed();
  }
}

/** The decompressed content of a verified archive as lines, each at most MAX_LINE_BYTES. */
async function* plainLines(src: ArchiveSource, o: Opened): AsyncGenerator<string> {
  const d = decipherOf(o);
  const gz = createGunzip();
  const input = ciphertext(src);
  input.on('error', (err) => gz.destroy(err));
  d.on('error', () => gz.destroy(decryptionFailed()));
  input.pipe(d).pipe(gz);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_PLAIN_BYTES) throw notBackup();
      let from = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, from)) {
        pending.push(chunk.subarray(from, nl));
        yield Buffer.concat(pending).toString('utf8');
        pending = [];
        pendingBytes = 0;
        from = nl + 1;
      }
      if (from < chunk.length) {
        pending.push(chunk.subarray(from));
        pendingBytes += chunk.length - from;
        if (pendingBytes > MAX_LINE_BYTES) throw notBackup();
      }
    }
  } catch (err) {
    throw err instanceof AppError ? err : notBackup();
  } finally {
    input.destroy();
    gz.destroy();
  }
  if (pendingBytes > 0) yield Buffer.concat(pending).toString('utf8');
}

function parseLine<T>(schema: z.ZodType<T>, line: string): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw notBackup();
  }
  const p = schema.safeParse(json);
  if (!p.success) throw notBackup();
  return p.data;
}

/** An opened archive: its header, then its rows one at a time. */
export interface ArchiveReader {
  header: BackupHeader;
  /** Each row with its JSON text (as in the file, so it need not be written out again). */
  rows: () => AsyncGenerator<[table: string, row: Record<string, unknown>, json: string]>;
}

/**
 * Opens an archive for reading row by row: the passphrase and integrity are checked first (one pass
 * over the file), then the rows stream from a second pass. Memory stays at about one row, whatever
 * the size of the file. A format 1 archive (one JSON document) is read whole, up to 64 MB.
 */
export async function openReader(src: ArchiveSource, passphrase: string): Promise<ArchiveReader> {
  const o = await openHead(src, passphrase);
  await verify(src, o);
  if (o.format === FORMAT_JSON) {
    if (o.size > MAX_JSON_ARCHIVE_BYTES) throw notBackup();
    const d = decipherOf(o);
    const chunks: Buffer[] = [];
    for await (const c of ciphertext(src)) chunks.push(d.update(c as Buffer));
    chunks.push(d.final());
    let json: unknown;
    try {
      json = JSON.parse((await gunzip(Buffer.concat(chunks))).toString('utf8'));
    } catch {
      throw notBackup();
    }
    const parsed = backupPayloadSchema.safeParse(json);
    if (!parsed.success) throw notBackup();
    const { tables, ...about } = parsed.data;
    return {
      header: { ...about, counts: Object.fromEntries(Object.entries(tables).map(([t, r]) => [t, r.length])) },
      rows: async function* () {
        for (const [t, rows] of Object.entries(tables)) for (const r of rows) yield [t, r, JSON.stringify(r)];
      },
    };
  }
  const lines = plainLines(src, o);
  const first = await lines.next();
  await lines.return(undefined);
  if (first.done) throw notBackup();
  const header = parseLine(backupHeaderSchema, first.value);
  return {
    header,
    rows: async function* () {
      let n = 0;
      for await (const line of plainLines(src, o)) {
        if (n++ === 0 || line === '') continue;
        const [table, row] = parseLine(rowLineSchema, line);
        // The line is exactly [table, row]: the row's text is what follows the table's name.
        const prefix = `[${JSON.stringify(table)},`;
        yield [table, row, line.startsWith(prefix) && line.endsWith(']') ? line.slice(prefix.length, -1) : JSON.stringify(row)];
      }
    },
  };
}

/** Decrypts and checks a whole archive into memory (tests, small archives). */
export async function open(archive: ArchiveSource, passphrase: string): Promise<BackupPayload> {
  const reader = await openReader(archive, passphrase);
  const { counts, ...about } = reader.header;
  const tables: Record<string, Record<string, unknown>[]> = Object.fromEntries(Object.keys(counts).map((t) => [t, []]));
  for await (const [t, r] of reader.rows()) (tables[t] ??= []).push(r);
  return { ...about, tables };
}

/** Refuses an archive made by another software version or for another database schema. */
export function assertSameVersion(payload: Pick<BackupPayload, 'version' | 'schema'>): void {
  if (payload.version !== SOFTWARE_VERSION || payload.schema !== SCHEMA_VERSION) {
    const theirs = payload.version === SOFTWARE_VERSION ? `${payload.version} (schema ${payload.schema})` : payload.version;
    const ours = payload.version === SOFTWARE_VERSION ? `${SOFTWARE_VERSION} (schema ${SCHEMA_VERSION})` : SOFTWARE_VERSION;
    throw restoreError({ archive: [BACKUP_MESSAGES.otherVersion(theirs, ours)] });
  }
}
