import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Logger } from 'pino';
import { z } from 'zod';
import { NODE_KEY_HEADER, NODE_SESSION_HEADER, NODE_THEMES_PATH, type NodeConfigSnapshot, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import { managementGet, type ManagementTrust } from '../management/managementGet.js';
import { parseThemeConfig, type NodeThemeConfig } from './themeRender.js';

export interface ThemeCacheOptions {
  /** The management server to download from: the one the management link is connected to now, when several share a database. */
  managementUrl: string | (() => string);
  /** The platform's enrollment key, if the node was started with it. */
  enrollmentKey?: string;
  /** The session the management link was given (null while disconnected). */
  session?: () => string | null;
  /** Trust for an https:// management URL, as the management link has it. */
  managementTls?: ManagementTrust;
  /** The node's data directory; packages are kept in `<dataDir>/themes/`. */
  dataDir: string;
  log: Logger;
  /** First retry delay after a failed download (doubles up to a minute). */
  retryMs?: number;
}

/** One unpacked theme: its files by name and its parsed themeconfig.json. */
export interface LoadedTheme {
  files: Map<string, Uint8Array>;
  config: NodeThemeConfig;
}

/** Refuse packages unpacking beyond this, as the management server does on upload. */
const MAX_UNPACKED_BYTES = 200 * 1024 * 1024;

// `<dataDir>/themes/index.json`: which version of each package is on disk.
const indexSchema = z.object({
  themes: z.record(z.string().regex(/^\d+$/), z.object({ hash: z.string() })).default({}),
  base: z.object({ etag: z.string() }).nullable().default(null),
});
type Index = z.infer<typeof indexSchema>;

export function unpackTheme(zip: Uint8Array): LoadedTheme {
  let total = 0;
  const entries = unzipSync(zip, {
    filter: (f) => {
      total += f.originalSize;
      if (total > MAX_UNPACKED_BYTES) throw new Error('theme package unpacks too large');
      // Theme files sit at the top level; anything in a folder is not a theme file.
      return !f.name.includes('/');
    },
  });
  return { files: new Map(Object.entries(entries)), config: parseThemeConfig(entries['themeconfig.json']) };
}

/**
 * The node's copy of every theme: downloads a package from the management server when the
 * snapshot lists a hash the node does not have, keeps it on disk so a restarted node without the
 * management server still has it, and keeps the previous version when a download fails (retrying
 * with backoff). The Base theme is fetched with its ETag, so an unchanged one costs a 304.
 */
export class ThemeCache {
  private readonly themes = new Map<number, { hash: string; theme: LoadedTheme }>();
  private base: { etag: string; theme: LoadedTheme } | null = null;
  private wanted: NodeConfigSnapshot['themes'] = [];
  private defaultThemeId: number | null = null;
  private location: string | null = null;
  private syncing: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private closed = false;

  constructor(private readonly opts: ThemeCacheOptions) {
    this.retryMs = opts.retryMs ?? 2_000;
  }

  private get dir(): string {
    return join(this.opts.dataDir, 'themes');
  }

  /** Reads the packages kept on disk (before any snapshot arrives). */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    let index: Index;
    try {
      index = indexSchema.parse(JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')));
    } catch {
      return; // first start, or an unreadable index: everything is fetched again
    }
    for (const [id, { hash }] of Object.entries(index.themes)) {
      try {
        this.themes.set(Number(id), { hash, theme: unpackTheme(await readFile(join(this.dir, `${id}.zip`))) });
      } catch (err) {
        this.opts.log.warn({ err, theme: id }, 'cached theme package unreadable; will fetch it again');
      }
    }
    if (index.base) {
      try {
        this.base = { etag: index.base.etag, theme: unpackTheme(await readFile(join(this.dir, 'base.zip'))) };
      } catch (err) {
        this.opts.log.warn({ err }, 'cached Base theme unreadable; will fetch it again');
      }
    }
  }

  /** Takes the themes and the default theme from a configuration snapshot and fetches what changed. */
  apply(snapshot: NodeConfigSnapshot): Promise<void> {
    this.wanted = snapshot.themes;
    this.defaultThemeId = snapshot.settings.defaultThemeId;
    this.location = snapshot.node.systemLocation;
    return this.sync();
  }

  /** Runs one sync at a time; a request during a sync runs another right after it. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        await this.syncOnce().catch((err: unknown) => {
          // e.g. the disk is full: keep serving what is in memory and try again later.
          this.opts.log.error({ err }, 'theme sync failed');
          this.scheduleRetry();
        });
      } while (this.again && !this.closed);
    })().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.closed) return;
    let failed = false;
    const wanted = new Map(this.wanted.map((t) => [t.id, t.hash]));
    for (const [id, hash] of wanted) {
      if (this.themes.get(id)?.hash === hash) continue;
      const got = await this.fetchPackage(String(id), null);
      if (got === 'failed') failed = true;
      else if (got !== 'gone' && got !== 'unchanged') {
        await this.store(`${id}.zip`, got.data);
        this.themes.set(id, { hash, theme: got.theme });
        this.opts.log.info({ theme: id, hash }, 'theme updated');
      }
    }
    const base = await this.fetchPackage('base', this.base?.etag ?? null);
    if (base === 'failed') failed = true;
    else if (base !== 'gone' && base !== 'unchanged' && base.etag) {
      await this.store('base.zip', base.data);
      this.base = { etag: base.etag, theme: base.theme };
    }
    // Themes deleted on the management server are dropped, from memory and disk.
    for (const id of [...this.themes.keys()]) {
      if (wanted.has(id)) continue;
      this.themes.delete(id);
      await rm(join(this.dir, `${id}.zip`), { force: true }).catch(() => {});
    }
    await this.writeIndex();
    if (failed) this.scheduleRetry();
    else this.retryMs = this.opts.retryMs ?? 2_000;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.sync();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 60_000);
  }

  private credentials(): Record<string, string> {
    const session = this.opts.session?.();
    if (session) return { [NODE_SESSION_HEADER]: session };
    return this.opts.enrollmentKey ? { [NODE_KEY_HEADER]: this.opts.enrollmentKey } : {};
  }

  /** Downloads and unpacks one package; any failure keeps what the node already has. */
  private async fetchPackage(
    name: string,
    etag: string | null,
  ): Promise<{ data: Uint8Array; theme: LoadedTheme; etag: string | null } | 'unchanged' | 'gone' | 'failed'> {
    const base = typeof this.opts.managementUrl === 'function' ? this.opts.managementUrl() : this.opts.managementUrl;
    const url = `${base.replace(/\/$/, '')}${NODE_THEMES_PATH}/${name}`;
    try {
      const res = await managementGet(
        url,
        { ...this.credentials(), ...(etag ? { 'if-none-match': etag } : {}) },
        { trust: this.opts.managementTls, timeoutMs: 30_000, maxBytes: MAX_UNPACKED_BYTES },
      );
      if (res.status === 304) return 'unchanged';
      if (res.status === 404) return 'gone'; // deleted meanwhile: the next snapshot no longer lists it
      if (res.status !== 200) {
        this.opts.log.warn({ theme: name, status: res.status }, 'theme download refused');
        return 'failed';
      }
      const data = new Uint8Array(res.body);
      const tag = res.headers.etag;
      return { data, theme: unpackTheme(data), etag: typeof tag === 'string' ? tag : null };
    } catch (err) {
      this.opts.log.warn({ theme: name, err: (err as Error).message }, 'theme download failed; keeping the previous version');
      return 'failed';
    }
  }

  /** Atomic write (temporary file, then rename), so a crash never leaves half a package. */
  private async store(file: string, data: Uint8Array): Promise<void> {
    const tmp = join(this.dir, `${file}.tmp`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, join(this.dir, file));
  }

  private async writeIndex(): Promise<void> {
    const index: Index = {
      themes: Object.fromEntries([...this.themes].map(([id, t]) => [String(id), { hash: t.hash }])),
      base: this.base ? { etag: this.base.etag } : null,
    };
    await this.store('index.json', new TextEncoder().encode(JSON.stringify(index))).catch((err: unknown) =>
      this.opts.log.error({ err }, 'could not write the theme index'),
    );
  }

  /** The hash of the package the node holds for a theme (tests, health). */
  hashOf(id: number): string | undefined {
    return this.themes.get(id)?.hash;
  }

  /** The node's system location, as Call Routing Rules match on it. */
  get systemLocation(): string | null {
    return this.location;
  }

  get hasBase(): boolean {
    return this.base !== null;
  }

  /**
   * The theme layers for a service, most specific first: its own theme, the global default
   * theme, then Base (guide §1.2). Layers the node does not hold (yet) are skipped.
   */
  layersFor(service: Pick<ServiceConfig, 'themeId'> | null): LoadedTheme[] {
    const ids = [service?.themeId ?? null, this.defaultThemeId];
    const layers: LoadedTheme[] = [];
    for (const id of ids) {
      const t = id === null ? undefined : this.themes.get(id)?.theme;
      if (t && !layers.includes(t)) layers.push(t);
    }
    if (this.base) layers.push(this.base.theme);
    return layers;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
