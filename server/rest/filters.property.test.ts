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
      'name__startswith',
      'name__istartswith',
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

/**
 * The history, alarm and status lists take Tastypie's field lookups (`name__startswith`,
 * `start_time__gte`, `duration__in`…): any of them, on any field or none, with any value, must be
 * a 200 or a 400 with a message, never a database error.
 */
describe('history, alarm and status filters over HTTP (property-based)', () => {
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
  });
  afterAll(() => server.stop());

  const lists = {
    'history/v1/conference': ['id', 'name', 'service_type', 'tag', 'start_time', 'end_time', 'duration', 'participant_count'],
    'history/v1/participant': ['conference', 'conference_name', 'display_name', 'remote_address', 'role', 'start_time', 'duration', 'call_quality'],
    'history/v1/media_stream': ['id', 'participant', 'stream_type', 'node', 'start_time', 'end_time'],
    'history/v1/alarm': ['id', 'name', 'identifier', 'level', 'time_raised', 'time_lowered', 'acknowledged'],
    'status/v1/alarm': ['id', 'name', 'identifier', 'level', 'time_raised', 'acknowledged'],
    'status/v1/participant': ['conference', 'display_name', 'role', 'node'],
    'status/v1/conference': ['name', 'service_type', 'is_locked'],
  } as const;
  const lookups = [
    '',
    '__exact',
    '__iexact',
    '__contains',
    '__icontains',
    '__startswith',
    '__istartswith',
    '__endswith',
    '__iendswith',
    '__lt',
    '__lte',
    '__gt',
    '__gte',
    '__in',
    '__isnull',
    '__bogus',
    '__gte__lt',
  ];
  const numbers = fc.constantFrom(
    '2147483648',
    '9999999999',
    '-2147483649',
    '1e3',
    '2026-12-04T10:00:00',
    '2026-12-04T10:00:00+01:00',
    '0000-01-01',
    '99999-01-01',
    'true',
    '1,2,,3',
  );

  it('an integer filter past the column’s range is a 400 (it was a 500 found by the property below)', async () => {
    for (const q of [
      'history/v1/participant/?duration=2147483648',
      'history/v1/conference/?participant_count__gte=-9999999999',
      'history/v1/media_stream/?id__in=1,2147483648',
    ]) {
      const r = await fetch(`${server.url}/api/admin/${q}`, { headers: { authorization: auth } });
      expect(r.status, q).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/^Invalid value '-?\d+' for the filter '\w+'\.$/);
    }
  });

  it('a date in year 0 is a 400 (JavaScript takes it as 1 BC, the database takes no year 0: a 500 found by the property below)', async () => {
    for (const q of ['history/v1/alarm/?time_lowered=0000-01-01', 'history/v1/conference/?start_time__gte=0000-06-01T00:00:00']) {
      const r = await fetch(`${server.url}/api/admin/${q}`, { headers: { authorization: auth } });
      expect(r.status, q).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/^Invalid value '0000-0\d-01[^']*' for the filter '\w+'\.$/);
    }
  });

  it('any lookup on any field answers 200 with a valid envelope or 400 with a message, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(lists) as (keyof typeof lists)[])).chain((list) =>
          fc.tuple(
            fc.constant(list),
            fc.array(
              fc.tuple(
                fc.oneof(fc.constantFrom(...lists[list], 'order_by', 'limit', 'offset', '__proto__', 'bogus')),
                fc.constantFrom(...lookups),
                fc.oneof(value, numbers),
              ),
              {
                maxLength: 4,
              },
            ),
          ),
        ),
        async ([list, filters]) => {
          const qs = filters.map(([field, lookup, v]) => `${field}${['order_by', 'limit', 'offset'].includes(field) ? '' : lookup}=${encode(v)}`).join('&');
          const r = await fetch(`${server.url}/api/admin/${list}/?${qs}`, { headers: { authorization: auth } });
          const body = (await r.json()) as { error?: string; meta?: { total_count: number; limit: number }; objects?: unknown[] };
          expect([200, 400], `${list}/?${qs} → ${r.status} ${JSON.stringify(body)}`).toContain(r.status);
          if (r.status === 200) expect(body.objects!.length).toBeLessThanOrEqual(body.meta!.limit);
          else {
            expect(typeof body.error).toBe('string');
            expect(body.error).not.toMatch(/Failed query|params:|select .+ from "/i);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
