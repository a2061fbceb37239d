import { describe, expect, it } from 'vitest';
import { normaliseAlias } from '../alias/normalise.js';
import { lookupIncomingAlias, parsedAlias, routingRuleConfigSchema, type CallContext, type RoutingRuleConfig } from './callRouting.js';

interface Svc {
  name: string;
}
const directory = (aliases: Record<string, string>) => {
  const map = new Map(Object.entries(aliases).map(([a, name]) => [normaliseAlias(a), { name }]));
  return { serviceByNormalisedAlias: (n: string) => map.get(n) };
};
const NONE = directory({});

let nextId = 1;
const rule = (fields: Partial<RoutingRuleConfig> & { match_string: string }): RoutingRuleConfig =>
  routingRuleConfigSchema.parse({ id: nextId++, name: `rule ${nextId}`, priority: 100, ...fields });

const incoming = (over: Partial<CallContext> = {}): CallContext => ({ direction: 'incoming', protocol: 'sip', location: 'Oslo', registered: false, ...over });
const outgoing = (over: Partial<CallContext> = {}): CallContext => ({ direction: 'outgoing', protocol: 'sip', location: 'Oslo', registered: false, ...over });

const route = (
  dialled: string,
  rules: RoutingRuleConfig[],
  call: CallContext = incoming(),
  dir: { serviceByNormalisedAlias(n: string): Svc | undefined } = NONE,
) => lookupIncomingAlias(dialled, dir, rules, call);
const ruleName = (r: ReturnType<typeof route>) => (r.kind === 'gateway' ? r.rule.name : r.kind);

describe('routingRuleConfigSchema', () => {
  it('fills the management API defaults', () => {
    expect(routingRuleConfigSchema.parse({ id: 1, name: 'r', priority: 10, match_string: '.*' })).toEqual({
      id: 1,
      name: 'r',
      priority: 10,
      enable: true,
      match_string: '.*',
      replace_string: '',
      match_string_full: false,
      match_incoming_calls: true,
      match_outgoing_calls: false,
      match_incoming_sip: true,
      match_incoming_h323: true,
      match_incoming_mssip: true,
      match_incoming_webrtc: true,
      match_incoming_teams: false,
      match_incoming_only_if_registered: false,
      match_source_location_name: null,
      outgoing_location_name: null,
      called_device_type: 'external',
      outgoing_protocol: 'sip',
      call_type: 'video',
      sip_proxy_address: null,
      treat_as_trusted: false,
      tag: '',
      crypto_mode: null,
    });
    expect(() => routingRuleConfigSchema.parse({ id: 1, name: 'r', priority: 201, match_string: '.*' })).toThrow();
  });
});

describe('parsedAlias', () => {
  it.each([
    ['sip:alice@example.com;transport=tls', 'alice@example.com'],
    ['sips:Alice@Example.com', 'Alice@Example.com'],
    ['h323:5551234', '5551234'],
    ['sip:5551234@10.0.0.5:5060', '5551234'],
    ['sip:meet.Alice@[2001:db8::1]', 'meet.Alice'],
    ['  Bob@example.com  ', 'Bob@example.com'],
  ])('%s → %s', (raw, parsed) => {
    expect(parsedAlias(raw)).toBe(parsed);
  });
});

describe('lookupIncomingAlias', () => {
  it('reaches a service before any rule, even a catch-all (worked example §14.4)', () => {
    const dir = directory({ 'meet.alice.jones@example.com': 'Alice VMR' });
    const rules = [rule({ name: 'Infinity Connect to SIP', match_string: '.*@example.com', priority: 1 })];
    expect(route('sip:Meet.Alice.Jones@example.com', rules, incoming(), dir)).toEqual({ kind: 'service', service: { name: 'Alice VMR' } });
    expect(ruleName(route('bob@example.com', rules, incoming(), dir))).toBe('Infinity Connect to SIP');
  });

  it('returns none when no service and no rule matches', () => {
    expect(route('bob@example.com', [rule({ match_string: '.*@example\\.net' })])).toEqual({ kind: 'none' });
    expect(route('bob@example.com', [])).toEqual({ kind: 'none' });
  });

  it('checks rules in priority order (lower first, ties by id) and stops at the first match', () => {
    const a = rule({ name: 'fallback', priority: 200, match_string: '.*', replace_string: 'fallback' });
    const b = rule({ name: 'domain', priority: 10, match_string: '(.+)@example\\.com', replace_string: '\\1@sip.example.com' });
    const c = rule({ name: 'same priority, later id', priority: 10, match_string: '.*' });
    const r = route('alice@example.com', [a, c, b]);
    expect(r).toMatchObject({ kind: 'gateway', destination: 'alice@sip.example.com' });
    expect(ruleName(r)).toBe('domain');
    expect(ruleName(route('alice@example.net', [a, c, b]))).toBe('same priority, later id');
  });

  it('stops at the first matching rule even if its replace string makes the call fail', () => {
    const broken = rule({ name: 'broken', priority: 1, match_string: '.*', replace_string: '\\3' });
    const good = rule({ name: 'good', priority: 2, match_string: '.*' });
    expect(route('alice@example.com', [broken, good])).toEqual({ kind: 'none' });
  });

  it('skips a rule whose regex is invalid', () => {
    const bad = rule({ name: 'bad', priority: 1, match_string: '(' });
    const good = rule({ name: 'good', priority: 2, match_string: '.*' });
    expect(ruleName(route('x', [bad, good]))).toBe('good');
  });

  it('ignores disabled rules', () => {
    const off = rule({ name: 'off', priority: 1, enable: false, match_string: '.*' });
    const on = rule({ name: 'on', priority: 50, match_string: '.*' });
    expect(ruleName(route('x', [off, on]))).toBe('on');
    expect(route('x', [off])).toEqual({ kind: 'none' });
  });

  it('requires a full, case-insensitive match; a partial match is a non-match', () => {
    const r = rule({ name: 'numbers', match_string: '9([0-9]+)', replace_string: '\\1' });
    expect(route('9123', [r])).toMatchObject({ kind: 'gateway', destination: '123' });
    expect(route('9123@example.com', [r])).toEqual({ kind: 'none' });
    expect(route('x9123', [r])).toEqual({ kind: 'none' });
    expect(route('ALICE@EXAMPLE.COM', [rule({ match_string: 'alice@example\\.com' })])).toMatchObject({ kind: 'gateway', destination: 'ALICE@EXAMPLE.COM' });
  });

  it('applies back references and named groups in the replace string', () => {
    const domain = rule({ match_string: '(.+)(@example\\.(com|net|co\\.uk)$)', replace_string: '\\1@example.com' });
    expect(route('sip:bob@example.co.uk', [domain])).toMatchObject({ destination: 'bob@example.com' });
    const named = rule({ match_string: '(?P<user>[^@]+)@(?P<host>.+)', replace_string: '\\g<host>.\\g<user>' });
    expect(route('Carol@vc.example.com', [named])).toMatchObject({ destination: 'vc.example.com.Carol' });
  });

  it('matches the parsed alias by default and the full URI only when asked', () => {
    const parsed = rule({ name: 'parsed', priority: 1, match_string: 'alice@example\\.com' });
    expect(route('sip:alice@example.com;transport=tls', [parsed])).toMatchObject({ kind: 'gateway', destination: 'alice@example.com' });
    expect(route('sip:1234@192.168.0.1', [rule({ match_string: '\\d+' })])).toMatchObject({ destination: '1234' });

    const full = rule({ name: 'full', priority: 1, match_string_full: true, match_string: 'sip:(.+)@example\\.com;.*', replace_string: '\\1' });
    expect(route('sip:alice@example.com;transport=tls', [full])).toMatchObject({ destination: 'alice' });
    const fullBlank = rule({ name: 'full blank', match_string_full: true, match_string: 'sip:.*' });
    expect(route('sip:alice@example.com;transport=tls', [fullBlank])).toMatchObject({ destination: 'sip:alice@example.com;transport=tls' });
    expect(route('sip:alice@example.com', [rule({ match_string: 'sip:.*' })])).toEqual({ kind: 'none' });
  });

  it('filters by direction', () => {
    const inOnly = rule({ name: 'in', priority: 1, match_string: '.*' });
    const outOnly = rule({ name: 'out', priority: 2, match_string: '.*', match_incoming_calls: false, match_outgoing_calls: true });
    expect(ruleName(route('x', [inOnly, outOnly], incoming()))).toBe('in');
    expect(ruleName(route('x', [inOnly, outOnly], outgoing()))).toBe('out');
  });

  it('sends outgoing calls through the rules even when the alias is a service alias', () => {
    const dir = directory({ 'meet.alice': 'Alice VMR' });
    const out = rule({ name: 'out', match_string: '.*', match_outgoing_calls: true });
    expect(ruleName(route('meet.alice', [out], outgoing(), dir))).toBe('out');
  });

  it('filters incoming calls by source protocol', () => {
    const base = {
      match_string: '.*',
      match_incoming_sip: false,
      match_incoming_h323: false,
      match_incoming_mssip: false,
      match_incoming_webrtc: false,
      match_incoming_teams: false,
    };
    const rules = [
      rule({ ...base, name: 'sip', priority: 1, match_incoming_sip: true }),
      rule({ ...base, name: 'h323', priority: 2, match_incoming_h323: true }),
      rule({ ...base, name: 'mssip', priority: 3, match_incoming_mssip: true }),
      rule({ ...base, name: 'webrtc', priority: 4, match_incoming_webrtc: true }),
      rule({ ...base, name: 'teams', priority: 5, match_incoming_teams: true }),
    ];
    for (const p of ['sip', 'h323', 'mssip', 'webrtc', 'teams'] as const) expect(ruleName(route('x', rules, incoming({ protocol: p })))).toBe(p);
    // Teams is off by default.
    expect(route('x', [rule({ match_string: '.*' })], incoming({ protocol: 'teams' }))).toEqual({ kind: 'none' });
    // Source protocol filters do not apply to outgoing calls.
    const sipOnly = rule({ ...base, name: 'out', match_outgoing_calls: true });
    expect(ruleName(route('x', [sipOnly], outgoing({ protocol: 'webrtc' })))).toBe('out');
  });

  it('filters by location (null = Any Location)', () => {
    const oslo = rule({ name: 'oslo', priority: 1, match_string: '.*', match_source_location_name: 'Oslo', match_outgoing_calls: true });
    const any = rule({ name: 'any', priority: 2, match_string: '.*', match_outgoing_calls: true });
    expect(ruleName(route('x', [oslo, any], incoming({ location: 'Oslo' })))).toBe('oslo');
    expect(ruleName(route('x', [oslo, any], incoming({ location: 'London' })))).toBe('any');
    expect(ruleName(route('x', [oslo, any], incoming({ location: null })))).toBe('any');
    expect(ruleName(route('x', [oslo, any], outgoing({ location: 'Oslo' })))).toBe('oslo');
    expect(ruleName(route('x', [oslo, any], outgoing({ location: 'London' })))).toBe('any');
  });

  it('with registered-only, skips unregistered callers and the web app, and ignores the MS-SIP checkbox', () => {
    const reg = rule({ name: 'registered', priority: 1, match_string: '.*', match_incoming_only_if_registered: true, match_incoming_mssip: false });
    const rest = rule({ name: 'rest', priority: 2, match_string: '.*' });
    expect(ruleName(route('x', [reg, rest], incoming({ registered: true })))).toBe('registered');
    expect(ruleName(route('x', [reg, rest], incoming({ registered: false })))).toBe('rest');
    expect(ruleName(route('x', [reg, rest], incoming({ protocol: 'webrtc', registered: false })))).toBe('rest');
    expect(ruleName(route('x', [reg, rest], incoming({ protocol: 'mssip', registered: true })))).toBe('registered');
    // Without registered-only the MS-SIP checkbox applies.
    const noMssip = rule({ name: 'no mssip', priority: 1, match_string: '.*', match_incoming_mssip: false });
    expect(ruleName(route('x', [noMssip, rest], incoming({ protocol: 'mssip' })))).toBe('rest');
    // Registered-only does not concern outgoing calls.
    const regOut = rule({ name: 'reg out', match_string: '.*', match_incoming_only_if_registered: true, match_outgoing_calls: true });
    expect(ruleName(route('x', [regOut], outgoing({ registered: false })))).toBe('reg out');
  });

  it('implements the guide’s recommended outbound rule set (§14.3)', () => {
    const rules = [
      rule({ name: 'registered', priority: 10, match_string: '.+@example\\.com', called_device_type: 'registration', match_outgoing_calls: true }),
      rule({ name: 'ip', priority: 190, match_string: '\\d+\\.\\d+\\.\\d+\\.\\d+', outgoing_protocol: 'h323', match_outgoing_calls: true }),
      rule({ name: 'fallback', priority: 200, match_string: '(?!.*@example\\.com$).*', match_outgoing_calls: true }),
    ];
    expect(ruleName(route('alice@example.com', rules, outgoing()))).toBe('registered');
    expect(ruleName(route('h323:10.1.2.3', rules, outgoing()))).toBe('ip');
    expect(ruleName(route('bob@other.org', rules, outgoing()))).toBe('fallback');
    expect(ruleName(route('example.com', rules, outgoing()))).toBe('fallback');
  });
});
