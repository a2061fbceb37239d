import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';

/**
 * The client API's input parsing, fuzzed over real HTTP against a real node (issue 11, "Tests and
 * figures"): whatever arrives — odd bodies, headers, tokens, path segments — the node answers with
 * a 2xx/4xx in Pexip's JSON shape, never a 500, and keeps serving real participants.
 */

/** Strings that once broke parsers somewhere, mixed with anything fast-check makes up. */
const tricky = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  '1e20',
  '-1',
  '',
  ' ',
  '__proto__',
  'constructor',
  'toString',
  '%',
  '%00',
  '%zz',
  '..',
  '../..',
  'NaN',
  '٣',
  'x'.repeat(2_000),
  "'; drop table x; --",
  '<script>',
);
const text = fc.oneof(tricky, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    { display_name: fc.oneof(text, fc.jsonValue({ maxDepth: 1 })), token: text, role: text, conference_alias: text, layout: text, digits: text, text },
    { requiredKeys: [] },
  ),
  fc.dictionary(tricky, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);
/** A body as sent on the wire: JSON, or bytes that only claim to be JSON. */
const rawBody = fc.oneof(
  jsonBody.map((v) => JSON.stringify(v)),
  text,
  fc.constant('{"a":'),
  fc.constant('[1,2'),
  fc.constant('null'),
);

const conferenceActions = [
  'request_token',
  'refresh_token',
  'release_token',
  'lock',
  'unlock',
  'muteguests',
  'unmuteguests',
  'set_guests_can_unmute',
  'disconnect',
  'transform_layout',
  'available_layouts',
  'layout_svgs',
  'conference_status',
  'message',
  'clearallbuzz',
  'participants',
  'calls',
  'dial',
  'events',
];
const participantActions = [
  'mute',
  'unmute',
  'client_mute',
  'client_unmute',
  'video_muted',
  'video_unmuted',
  'spotlighton',
  'spotlightoff',
  'role',
  'transfer',
  'buzz',
  'clearbuzz',
  'unlock',
  'disconnect',
  'dtmf',
  'message',
  'avatar.jpg',
  'overlaytext',
  'allowrxpresentation',
  'denyrxpresentation',
  'pres_in_mix',
  'preferred_aspect_ratio',
  'notify_not_afk',
  'statistics',
  'calls',
];
const callActions = ['ack', 'new_candidate', 'update', 'disconnect', 'statistics', 'dtmf'];

/** A path segment as sent; a lone surrogate (which cannot be encoded) goes as the invalid UTF-8 a client could send. */
const encode = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

describe('client API input parsing (property-based, real node)', () => {
  let platform: TestPlatform;
  let host: { token: string; participant_uuid: string };

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { name: 'fuzz-node', mediaPortRange: [47000, 47999], mediaWorkers: 1 } });
    await platform.create('conference', { name: 'Fuzz room', aliases: [{ alias: 'fuzz' }], pin: '1234', allow_guests: true, guest_pin: '' });
    await until(
      () => platform.node.manager.directory.lookup('fuzz'),
      (x) => x !== undefined,
    );
    const r = await platform.client('fuzz', 'request_token', { body: { display_name: 'Host' }, pin: '1234' });
    expect(r.status).toBe(200);
    host = requestTokenResult.parse(((await r.json()) as { result: unknown }).result);
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it('answers any request with a 2xx/4xx in Pexip JSON, never a 500, and keeps serving', async () => {
    const segment = fc.oneof(text, fc.constantFrom('fuzz', 'nobody'), fc.uuid());
    const path = fc.oneof(
      fc.tuple(segment, fc.oneof(fc.constantFrom(...conferenceActions), text)).map(([alias, action]) => [alias, action]),
      fc
        .tuple(segment, fc.oneof(fc.constant('<host>'), fc.uuid(), text), fc.oneof(fc.constantFrom(...participantActions), text))
        .map(([a, p, action]) => [a, 'participants', p, action]),
      fc
        .tuple(segment, fc.oneof(fc.constant('<host>'), fc.uuid()), fc.oneof(fc.uuid(), text), fc.constantFrom(...callActions))
        .map(([a, p, c, action]) => [a, 'participants', p, 'calls', c, action]),
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE'),
      path,
      token: fc.oneof(fc.constant(undefined), fc.constant('<host>'), text),
      pin: fc.oneof(fc.constant(undefined), text, fc.constantFrom('1234', 'none')),
      contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', undefined),
      body: fc.option(rawBody, { nil: undefined }),
    });

    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const segments = req.path.map((s) => encode(s === '<host>' ? host.participant_uuid : s));
        const headers: Record<string, string> = {};
        // Header values must be ByteStrings to be sent at all; other values are replaced by what a client could send.
        const header = (v: string) => (/^[\x20-\x7e]*$/.test(v) ? v : encode(v));
        if (req.token !== undefined) headers.token = req.token === '<host>' ? host.token : header(req.token);
        if (req.pin !== undefined) headers.pin = header(req.pin);
        if (req.contentType && req.body !== undefined) headers['content-type'] = req.contentType;
        const body = req.method === 'GET' ? undefined : req.body;
        const controller = new AbortController();
        // The event stream stays open by design: its first bytes are enough.
        const timer = setTimeout(() => controller.abort(), 3_000);
        try {
          const res = await fetch(`${platform.node.url}/api/client/v2/conferences/${segments.join('/')}`, {
            method: req.method,
            headers,
            body,
            signal: controller.signal,
          });
          seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
          expect(res.status, `${req.method} ${segments.join('/')}`).toBeLessThan(500);
          const type = res.headers.get('content-type') ?? '';
          if (type.startsWith('application/json')) {
            const json = (await res.json()) as Record<string, unknown>;
            if (res.status >= 400) {
              // Pexip's error shape: a status and a result (no stack, no SQL, no file paths).
              expect(json, JSON.stringify(json)).toHaveProperty('status');
              expect(JSON.stringify(json)).not.toMatch(/\.ts:\d+|node_modules|at \w+ \(/);
            }
          } else {
            await res.body?.cancel();
          }
        } finally {
          clearTimeout(timer);
        }
      }),
      { numRuns: 400 },
    );
    // The run reached the routes, not only the 404 of unknown paths.
    expect([...seen.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect([...seen.keys()].filter((s) => s >= 400).length).toBeGreaterThan(1);

    // And the node still serves a real participant.
    const r = await platform.client('fuzz', 'request_token', { body: { display_name: 'After' }, pin: 'none' });
    expect(r.status).toBe(200);
    expect(requestTokenResult.parse(((await r.json()) as { result: unknown }).result).display_name).toBe('After');
  }, 180_000);
});
