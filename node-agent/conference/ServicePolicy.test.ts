import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema, policyProfileConfigSchema, type PolicyProfileConfig } from '../../shared/node-protocol/messages.js';
import { PolicyTemplateRenderer } from './policyTemplate.js';
import { ServiceDirectory } from './ServiceDirectory.js';
import {
  externalServiceResponseSchema,
  localPolicyOutputSchema,
  policyCallInfo,
  policyRequestUrl,
  policyServiceConfigSchema,
  ServicePolicy,
  type PolicyCallRequest,
} from './ServicePolicy.js';

/** A pino logger whose lines (parsed) land in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const directory = () => {
  const d = new ServiceDirectory();
  d.load(
    nodeConfigSnapshotSchema.parse({
      version: 'v1',
      generatedAt: new Date().toISOString(),
      node: { id: 1, name: 'node1', systemLocation: 'Oslo' },
      services: [
        {
          id: 7,
          name: 'Alice',
          serviceType: 'conference',
          pin: '1234',
          guestPin: '',
          allowGuests: true,
          participantLimit: 5,
          aliases: ['meet.alice'],
          themeId: 3,
        },
      ],
      routingRules: [{ id: 1, name: 'to SIP', priority: 10, match_string: '(.+)@example\\.com', replace_string: '\\1@sip.example.com' }],
    }),
  );
  return d;
};

const CALL: PolicyCallRequest = {
  displayName: 'Bob',
  remoteAddress: '::ffff:10.0.0.9',
  remotePort: 50123,
  nodeIp: '10.0.0.1',
  callTag: 'tag-1',
  vendor: 'UA/1',
};
const profile = (p: Partial<PolicyProfileConfig>) => policyProfileConfigSchema.parse({ name: 'P', ...p });

/** Passes the configuration through, as the guide's example script does. */
const PASS = `{
  {% if service_config %}"action": "continue", "result": {{ service_config|pex_to_json }}
  {% else %}"action": "reject", "result": {}{% endif %}
}`;

describe('local policy templates', () => {
  it('renders pex_to_json, pex_update and the standard filters; pex_debug_log writes a debug line', () => {
    const { log, lines } = capturingLogger();
    const r = new PolicyTemplateRenderer({ log });
    const out = r.render(
      `{{ (service_config|pex_update({"name": call_info.local_alias|upper}))|pex_to_json }}|{{ "x"|pex_debug_log("alias=", call_info.local_alias) }}{{ pex_debug_log("tag ", call_info.call_tag) }}|{{ call_info.local_alias.startswith("meet.") }}`,
      { service_config: { name: 'Alice', pin: '1234' }, call_info: { local_alias: 'meet.alice', call_tag: 't' } },
    );
    const [json, debug, starts] = out.split('|');
    expect(JSON.parse(json!)).toEqual({ name: 'MEET.ALICE', pin: '1234' });
    expect(debug).toBe('');
    expect(starts).toBe('true');
    expect(lines.filter((l) => l.level === 20).map((l) => l.msg)).toEqual(['alias=meet.alicex', 'tag t']);
  });

  it('keeps scripts away from JavaScript internals and the filesystem', () => {
    const r = new PolicyTemplateRenderer({ log: pino({ level: 'silent' }) });
    const ctx = { call_info: { a: 'b' } };
    for (const escape of [
      `{{ range.constructor("return process")() }}`,
      `{{ "".constructor.constructor("return process")() }}`,
      `{{ call_info["constructor"]["constructor"]("return process")() }}`,
      `{{ constructor.getOwnPropertyDescriptor(constructor.getPrototypeOf(range), "constructor").value("return process")() }}`,
    ]) {
      expect(() => r.render(escape, ctx), escape).toThrow(/not a function/);
    }
    expect(r.render(`{{ call_info.__proto__ }}{{ call_info.constructor }}`, ctx)).toBe('');
    expect(() => r.render(`{% include "/etc/passwd" %}`, ctx)).toThrow();
    expect(() => r.render(`{% import "/etc/hostname" as h %}`, ctx)).toThrow();
    // Filters outside the guide's list are disabled.
    expect(() => r.render(`{{ call_info|dump }}`, ctx)).toThrow(/filter not found: dump/);
  });

  it('stops runaway scripts', () => {
    const r = new PolicyTemplateRenderer({ log: pino({ level: 'silent' }), limits: { maxSteps: 50_000 } });
    const t0 = Date.now();
    expect(() => r.render(`{% for i in range(5000) %}{% for j in range(5000) %}x{% endfor %}{% endfor %}`, {})).toThrow(/step budget/);
    expect(() => r.render(`{{ range(100000000)|length }}`, {})).toThrow(/range\(\) longer/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('policy response validation', () => {
  it('accepts a VMR configuration, keeps unknown keys and fills the PINs', () => {
    const c = policyServiceConfigSchema.parse({ service_type: 'conference', name: 'Room', pin: '1234', allow_guests: true, ivr_theme_name: 'Blue' });
    expect(c).toMatchObject({ name: 'Room', pin: '1234', guest_pin: '', ivr_theme_name: 'Blue' });
  });

  it('refuses configurations that break the PIN rules or lack required fields', () => {
    const bad = [
      { service_type: 'conference', name: 'R', pin: '12' },
      { service_type: 'conference', name: 'R', pin: '', guest_pin: '5678' },
      { service_type: 'conference', name: 'R', pin: '1234', guest_pin: '1234', allow_guests: true },
      { service_type: 'conference', name: '' },
      { service_type: 'conference', name: 'R', enable_chat: 'maybe' },
      { service_type: 'gateway', name: 'G' },
      { service_type: 'meeting', name: 'R' },
      { service_type: 'conference', name: 'R', participant_limit: -1 },
    ];
    for (const b of bad) expect(policyServiceConfigSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
  });

  it('validates the envelopes', () => {
    expect(externalServiceResponseSchema.parse({ status: 'success' }).action).toBe('continue');
    expect(externalServiceResponseSchema.safeParse({ status: 'success', action: 'maybe' }).success).toBe(false);
    expect(externalServiceResponseSchema.safeParse({ action: 'reject' }).success).toBe(false);
    expect(localPolicyOutputSchema.safeParse({ result: {} }).success).toBe(false);
  });

  it('builds the request URL under the profile URL, with Pexip-style parameters', () => {
    const url = policyRequestUrl('https://policy.example.com/base/', policyCallInfo('meet.alice', CALL, 'Oslo'));
    expect(url.origin + url.pathname).toBe('https://policy.example.com/base/policy/v1/service/configuration');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      protocol: 'api',
      local_alias: 'meet.alice',
      remote_alias: 'Bob',
      remote_display_name: 'Bob',
      remote_address: '10.0.0.9',
      remote_port: '50123',
      node_ip: '10.0.0.1',
      call_direction: 'dial_in',
      location: 'Oslo',
      version_id: '24',
      trigger: 'web',
      call_tag: 'tag-1',
      registered: 'False',
      bandwidth: '0',
      vendor: 'UA/1',
    });
  });
});

describe('ServicePolicy with a local policy script', () => {
  const make = (script: string) => {
    const { log, lines } = capturingLogger();
    const policy = new ServicePolicy({
      directory: directory(),
      profile: () => profile({ localServicePolicy: true, localServiceScript: script }),
      location: () => 'Oslo',
      log,
    });
    return { policy, lines };
  };

  it('passes the configured service through unchanged (same service id, theme and PINs)', async () => {
    const { policy } = make(PASS);
    const r = await policy.resolve('meet.alice', CALL);
    expect(r).toMatchObject({
      kind: 'service',
      service: { id: 7, name: 'Alice', pin: '1234', allowGuests: true, participantLimit: 5, themeId: 3, aliases: ['meet.alice'] },
    });
  });

  it('rejects where the script says so (here: no configuration found)', async () => {
    const { policy } = make(PASS);
    expect(await policy.resolve('meet.nobody', CALL)).toEqual({ kind: 'reject' });
  });

  it('renames and sets a PIN: a service with a stable id per name', async () => {
    const { policy } = make(
      `{"action": "continue", "result": {{ service_config|pex_update({"name": "Renamed " ~ call_info.local_alias, "pin": "4321", "guest_pin": "", "allow_guests": false})|pex_to_json }}}`,
    );
    const a = await policy.resolve('meet.alice', CALL);
    const b = await policy.resolve('meet.alice', { ...CALL, displayName: 'Carol' });
    expect(a).toMatchObject({ kind: 'service', service: { name: 'Renamed meet.alice', pin: '4321', allowGuests: false, participantLimit: 5 } });
    if (a.kind !== 'service' || b.kind !== 'service') throw new Error('expected services');
    expect(a.service.id).toBeLessThan(0);
    expect(b.service.id).toBe(a.service.id);
  });

  it('creates a configuration where the node has none, from call_info', async () => {
    const { policy } = make(
      `{% if not service_config and call_info.local_alias.startswith("adhoc.") %}{"action": "continue", "result": {"service_type": "conference", "name": "{{ call_info.local_alias }}", "enable_chat": "no", "participant_limit": 3}}{% else %}{"action": "continue"}{% endif %}`,
    );
    expect(await policy.resolve('adhoc.x', CALL)).toMatchObject({
      kind: 'service',
      service: { name: 'adhoc.x', chatEnabled: false, participantLimit: 3, pin: '' },
    });
    // continue without a result keeps what was found before.
    expect(await policy.resolve('meet.alice', CALL)).toMatchObject({ kind: 'service', service: { id: 7 } });
    expect(await policy.resolve('bob@example.com', CALL)).toMatchObject({ kind: 'gateway', destination: 'bob@sip.example.com' });
  });

  it('falls back to the configuration found before when the output is not valid, and logs why', async () => {
    for (const [script, why] of [
      ['not json', /did not output JSON/],
      ['{"result": {}}', /not \{action, result\}/],
      ['{"action": "continue", "result": {"service_type": "conference", "name": "X", "pin": "12"}}', /invalid service configuration/],
      ['{{ nothing() }}', /script failed/],
    ] as const) {
      const { policy, lines } = make(script);
      expect(await policy.resolve('meet.alice', CALL), script).toMatchObject({ kind: 'service', service: { id: 7, name: 'Alice' } });
      expect(
        lines.some((l) => l.level === 40 && why.test(String(l.msg))),
        script,
      ).toBe(true);
    }
  });
});

describe('ServicePolicy with an external policy server', () => {
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const requests: Array<{ url: URL; auth: string | undefined }> = [];
  const json =
    (body: unknown, status = 200) =>
    (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ url: new URL(req.url!, 'http://x'), auth: req.headers.authorization });
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pol`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const make = (p: Partial<PolicyProfileConfig> = {}) => {
    const { log, lines } = capturingLogger();
    const policy = new ServicePolicy({
      directory: directory(),
      profile: () => profile({ url: base, username: 'pexip', password: 's3cret-pw', externalServiceLookup: true, ...p }),
      location: () => 'Oslo',
      log,
      timeoutMs: 300,
    });
    return { policy, lines };
  };

  it('uses the returned configuration, sending Basic auth and the call parameters; never logs the password', async () => {
    handler = json({
      status: 'success',
      action: 'continue',
      result: { service_type: 'lecture', name: 'Town hall', pin: '5555', guest_pin: '6666', allow_guests: true },
    });
    const { policy, lines } = make();
    const r = await policy.resolve('townhall', CALL);
    expect(r).toMatchObject({
      kind: 'service',
      service: { name: 'Town hall', serviceType: 'lecture', pin: '5555', guestPin: '6666', allowGuests: true, aliases: ['townhall'] },
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url.pathname).toBe('/pol/policy/v1/service/configuration');
    expect(requests[0]!.url.searchParams.get('local_alias')).toBe('townhall');
    expect(requests[0]!.auth).toBe(`Basic ${Buffer.from('pexip:s3cret-pw').toString('base64')}`);
    expect(JSON.stringify(lines)).not.toContain('s3cret-pw');
    expect(JSON.stringify(lines)).not.toContain(Buffer.from('pexip:s3cret-pw').toString('base64'));
  });

  it('sends no Authorization header without a username', async () => {
    handler = json({ status: 'success', action: 'continue' });
    await make({ username: '', password: '' }).policy.resolve('meet.alice', CALL);
    expect(requests[0]!.auth).toBeUndefined();
  });

  it('rejects on action reject, even for a configured alias', async () => {
    handler = json({ status: 'success', action: 'reject' });
    expect(await make().policy.resolve('meet.alice', CALL)).toEqual({ kind: 'reject' });
  });

  it('falls back to the node configuration on anything else', async () => {
    const stall = () => undefined; // never answers
    for (const [h, why] of [
      [json({ status: 'success', action: 'continue' }), null],
      [json({ status: 'success', action: 'continue', result: {} }), null],
      [json({ status: 'failed', action: 'reject' }), /without success/],
      [json({ error: 'x' }, 500), /answered with an error/],
      [json('{not json'), /invalid JSON/],
      [json({ status: 'success', action: 'continue', result: { service_type: 'conference', name: 'X', pin: 'abcd' } }), /invalid service configuration/],
      [json({ status: 'success', result: 'x'.repeat(300 * 1024) }), /request failed/],
      [stall, /no answer within 300 ms/],
    ] as const) {
      handler = h;
      const { policy, lines } = make();
      const t0 = Date.now();
      expect(await policy.resolve('meet.alice', CALL)).toMatchObject({ kind: 'service', service: { id: 7, name: 'Alice', pin: '1234' } });
      expect(Date.now() - t0).toBeLessThan(2_000);
      if (why)
        expect(
          lines.some((l) => l.level === 40 && why.test(`${String(l.msg)} ${String(l.reason ?? '')}`)),
          String(why),
        ).toBe(true);
    }
  });

  it('feeds the external configuration to the local script, which may change it', async () => {
    handler = json({ status: 'success', action: 'continue', result: { service_type: 'conference', name: 'Ext', pin: '1111', custom: 'kept' } });
    const { policy } = make({
      localServicePolicy: true,
      localServiceScript: `{"action": "continue", "result": {{ service_config|pex_update({"name": service_config.name ~ "-" ~ service_config.custom}) |pex_to_json }}}`,
    });
    expect(await policy.resolve('whatever', CALL)).toMatchObject({ kind: 'service', service: { name: 'Ext-kept', pin: '1111' } });
  });

  it('is inactive without a URL, or with the lookup switched off', async () => {
    expect(make({ url: '' }).policy.active).toBe(false);
    expect(make({ externalServiceLookup: false }).policy.active).toBe(false);
    expect(make().policy.active).toBe(true);
  });
});
