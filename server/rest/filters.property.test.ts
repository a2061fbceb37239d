import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { AppError } from '../errors/AppError.js';
import { ManagementServer } from '../ManagementServer.js';
import { orderBy, paging } from './tastypie.js';

/** Values that once reached the SQL, mixed with anything fast-check makes up. */
const tricky = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  '1e20',
  '100000000000000000000',
  '-1',
  '0',
  '',
  ' ',
  '__proto__',
  'constructor',
  '-__proto__',
  'toString',
  "'; drop table conference; --",
  '%',
  '_',
  '\\',
  '%00',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  '٣',
);
const value = fc.oneof(tricky, fc.string(), fc.string({ unit: 'binary', maxLength: 20 }), fc.nat().map(String), fc.bigInt().map(String));

describe('REST filter parsing (property-based)', () => {
  it('paging() returns a bounded integer limit and offset, or a 400, for any input', () => {
    fc.assert(
      fc.property(fc.option(value, { nil: undefined }), fc.option(value, { nil: undefined }), (limit, offset) => {
        try {
          const p = paging({ limit, offset });
          expect(Number.isInteger(p.limit) && p.limit >= 1 && p.limit <= 10_000).toBe(true);
          expect(Number.isInteger(p.offset) && p.offset >= 0 && p.offset <= 2_147_483_647).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe('BAD_REQUEST');
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('orderBy() lets through only the allowed keys, never a key of Object.prototype', () => {
    const fields = { name: {}, description: {} };
    fc.assert(
      fc.property(value, (raw) => {
        try {
          const r = orderBy(raw, (k) => Object.hasOwn(fields, k) || k === 'id');
          if (r !== undefined) expect(['name', '-name', 'description', '-description', 'id', '-id']).toContain(r);
          else expect(raw).toBe('');
        } catch (err) {
          expect((err as AppError).code).toBe('BAD_REQUEST');
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

/** encodeURIComponent, except a lone surrogate goes as its (invalid) UTF-8 bytes, as a hostile client would send it. */
function encode(s: string): string {
  return [...s]
    .map((ch) => {
      try {
        return encodeURIComponent(ch);
      } catch {
        return '%ED%A0%80';
      }
    })
    .join('');
}

describe('REST list filters over HTTP (property-based)', () => {
  let server: ManagementServer;
  const auth = `Basic ${Buffer.from('admin:fuzz-pw').toString('base64')}`;
  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'fuzz-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    for (const name of ['Alpha', 'beta_%', 'Gamma\\']) {
      await fetch(`${server.url}/api/admin/configuration/v1/system_location/`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
    }
  });
  afterAll(() => server.stop());

  it('any query on a list answers 200 with a valid envelope or 400 with a message, never 500', async () => {
    const key = fc.constantFrom(
      'limit',
      'offset',
      'order_by',
      'name',
      'name__icontains',
      'description',
      'service_type',
      'mtu',
      'id',
      '__proto__',
      'constructor',
      'bogus',
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('system_location', 'conference'), fc.array(fc.tuple(key, value), { maxLength: 4 }), async (resource, pairs) => {
        const qs = pairs.map(([k, v]) => `${k}=${encode(v)}`).join('&');
        const r = await fetch(`${server.url}/api/admin/configuration/v1/${resource}/?${qs}`, { headers: { authorization: auth } });
        const body = (await r.json()) as { error?: string; meta?: { total_count: number; limit: number; offset: number }; objects?: unknown[] };
        expect([200, 400], `${resource}/?${qs} → ${r.status} ${JSON.stringify(body)}`).toContain(r.status);
        if (r.status === 200) {
          expect(body.objects!.length).toBeLessThanOrEqual(body.meta!.limit);
          expect(body.meta!.total_count).toBeGreaterThanOrEqual(0);
        } else {
          expect(typeof body.error).toBe('string');
          // The message may quote the value sent, never the query (drizzle's "Failed query: select …").
          expect(body.error).not.toMatch(/Failed query|params:|select .+ from "/i);
        }
      }),
      { numRuns: 300 },
    );
  });
});
