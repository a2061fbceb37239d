import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import { ThemeCache } from './ThemeCache.js';
import { renderTheme } from './themeRender.js';

const BASE = '/api/client/v2/conferences/:alias/theme';

/** Only images are served: backgrounds, icons, the watermark and the presence avatar. */
const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', svg: 'image/svg+xml', png: 'image/png' };
// A single theme file name: no folders, no "..", nothing a theme could not hold.
const fileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(jpg|svg|png)$/)
  .refine((n) => !n.includes('..'));
const paramsSchema = z.object({ alias: z.string().min(1).max(500), file: z.string().max(200).optional() });

type Req = FastifyRequest<{ Params: { alias: string; file?: string } }>;
const failed = (reply: FastifyReply, code: number, result: string) => reply.code(code).send({ status: 'failed', result });

export interface NodeThemeOptions {
  managementUrl: string | (() => string);
  enrollmentKey?: string;
  session?: () => string | null;
  managementTls?: { ca?: string; fingerprint?: string };
  dataDir: string;
  log: Logger;
}

/**
 * The client API's theme resources on a node: `GET …/theme/` (the splash screens of the theme the
 * alias's service uses) and `GET …/theme/<file>` (a background or icon from that theme). As in
 * Pexip they are read before joining, so they take no token; they are scoped to an alias that
 * reaches a service or gateway, and serve only files from the theme packages.
 */
export async function registerNodeThemes(app: FastifyInstance, manager: ConferenceManager, opts: NodeThemeOptions): Promise<ThemeCache> {
  const cache = new ThemeCache(opts);
  await cache.load();
  app.addHook('onClose', async () => cache.close());

  /** The service (its theme and name) an alias reaches, or a gateway (default theme), or null. */
  const target = (alias: string): { themeId: number | null; name: string } | null => {
    const service = manager.directory.lookup(alias);
    if (service) return { themeId: service.themeId, name: service.name };
    const routed = manager.directory.route(alias, { direction: 'incoming', protocol: 'webrtc', location: cache.systemLocation, registered: false });
    return routed.kind === 'gateway' ? { themeId: null, name: routed.rule.name } : null;
  };

  app.get(`${BASE}/`, async (req: Req, reply) => {
    const p = paramsSchema.safeParse(req.params);
    const t = p.success ? target(p.data.alias) : null;
    if (!t) return failed(reply, 404, 'Neither conference nor gateway found');
    const layers = cache.layersFor(t);
    // No theme at all yet (a new node that has never reached the management server): the
    // contract's "204, empty body", and the client shows its own defaults.
    if (layers.length === 0) return reply.code(204).send();
    return {
      status: 'success',
      result: renderTheme(
        layers.map((l) => l.config),
        t.name,
      ),
    };
  });

  app.get(`${BASE}/:file`, async (req: Req, reply) => {
    const p = paramsSchema.safeParse(req.params);
    const t = p.success ? target(p.data.alias) : null;
    if (!t) return failed(reply, 404, 'Neither conference nor gateway found');
    const name = fileNameSchema.safeParse(p.data?.file);
    if (!name.success) return failed(reply, 400, 'Invalid file name');
    // Per-file resolution (guide §1.2): the service's theme, the default theme, then Base.
    const data = cache
      .layersFor(t)
      .find((l) => l.files.has(name.data))
      ?.files.get(name.data);
    if (!data) return failed(reply, 404, 'File not found');
    return (
      reply
        .type(CONTENT_TYPES[name.data.split('.').pop()!]!)
        .header('X-Content-Type-Options', 'nosniff')
        // An uploaded SVG opened directly must not run script in the node's origin.
        .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('Cache-Control', 'no-cache')
        .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
    );
  });

  return cache;
}
