import { z } from 'zod';
import { normaliseAlias } from '../alias/normalise.js';
import { expandReplacement, fullMatch, PythonRegexError } from './pythonRegex.js';

/**
 * Call Routing Rules as a conferencing node needs them (digest 2 §14; management API
 * `gateway_routing_rule`, §6.4). References to other objects arrive resolved: location names,
 * the SIP proxy's address.
 */
export const routingRuleConfigSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  /** 1–200, lower is checked first. */
  priority: z.number().int().min(1).max(200),
  /** Unchecked: listed but ignored. */
  enable: z.boolean().default(true),
  /** Destination alias regex match: case-insensitive, must match the entire alias. */
  match_string: z.string(),
  /** Destination alias regex replace string; blank leaves the alias unchanged. */
  replace_string: z.string().default(''),
  /** Match against full alias URI (default: the parsed alias). */
  match_string_full: z.boolean().default(false),
  match_incoming_calls: z.boolean().default(true),
  match_outgoing_calls: z.boolean().default(false),
  match_incoming_sip: z.boolean().default(true),
  match_incoming_h323: z.boolean().default(true),
  match_incoming_mssip: z.boolean().default(true),
  match_incoming_webrtc: z.boolean().default(true),
  match_incoming_teams: z.boolean().default(false),
  match_incoming_only_if_registered: z.boolean().default(false),
  /** Calls being handled in location; null = Any Location. */
  match_source_location_name: z.string().nullable().default(null),
  /** Outgoing location; null = Automatic. */
  outgoing_location_name: z.string().nullable().default(null),
  called_device_type: z
    .enum(['external', 'registration', 'mssip_conference_id', 'mssip_server', 'gms_conference', 'teams_conference', 'teams_user', 'telehealth_profile'])
    .default('external'),
  outgoing_protocol: z.enum(['sip', 'h323', 'mssip', 'rtmp', 'gms', 'teams']).default('sip'),
  call_type: z.enum(['video', 'video-only', 'audio', 'auto']).default('video'),
  /** The SIP proxy's address (host[:port]); null = Use DNS. */
  sip_proxy_address: z.string().nullable().default(null),
  treat_as_trusted: z.boolean().default(false),
  /** Service tag. */
  tag: z.string().default(''),
  /** The call's Media encryption (besteffort, on = Required, off = No encryption); null = the global setting. */
  crypto_mode: z.enum(['besteffort', 'on', 'off']).nullable().default(null),
});
export type RoutingRuleConfig = z.infer<typeof routingRuleConfigSchema>;

export type CallProtocol = 'sip' | 'h323' | 'mssip' | 'webrtc' | 'teams';

export interface CallContext {
  direction: 'incoming' | 'outgoing';
  /** The protocol the call arrived with (incoming calls only). */
  protocol: CallProtocol;
  /** Incoming: the location of the node handling signaling. Outgoing: the location the call is initiated from. */
  location: string | null;
  /** The caller is registered to this platform (never true for the web app). */
  registered: boolean;
}

export interface AliasDirectory<T> {
  serviceByNormalisedAlias(normalised: string): T | undefined;
}

export type RouteResult<T> = { kind: 'service'; service: T } | { kind: 'gateway'; rule: RoutingRuleConfig; destination: string } | { kind: 'none' };

const SCHEME = /^(?:sips?|h323):/i;

/**
 * The parsed alias a rule's regex runs against (guide §14.2): URI scheme, parameters and a host IP
 * address removed, e.g. `sip:alice@example.com;transport=tls` → `alice@example.com`. Unlike the
 * normalised alias its case is kept, since it may become the destination.
 */
export function parsedAlias(raw: string): string {
  const normalised = normaliseAlias(raw);
  const stripped = raw
    .trim()
    .replace(SCHEME, '')
    .replace(/[;?].*$/, '');
  // normaliseAlias decides what is removed; we only recover the original letters.
  const at = stripped.lastIndexOf('@');
  if (at >= 0 && stripped.slice(0, at).toLowerCase() === normalised) return stripped.slice(0, at);
  if (stripped.toLowerCase() === normalised) return stripped;
  return normalised;
}

const PROTOCOL_FLAG = {
  sip: 'match_incoming_sip',
  h323: 'match_incoming_h323',
  mssip: 'match_incoming_mssip',
  webrtc: 'match_incoming_webrtc',
  teams: 'match_incoming_teams',
} as const satisfies Record<CallProtocol, keyof RoutingRuleConfig>;

/** Does the rule apply to this call at all, before its regex is tried? */
export function ruleApplies(rule: RoutingRuleConfig, call: CallContext): boolean {
  if (!rule.enable) return false;
  if (rule.match_source_location_name !== null && rule.match_source_location_name !== call.location) return false;
  if (call.direction === 'outgoing') return rule.match_outgoing_calls;
  if (!rule.match_incoming_calls) return false;
  if (rule.match_incoming_only_if_registered) {
    if (!call.registered) return false;
    // The MS-SIP checkbox does not apply when registered-only is selected.
    if (call.protocol === 'mssip') return true;
  }
  return rule[PROTOCOL_FLAG[call.protocol]];
}

/** Enabled rules in evaluation order: priority 1→200, ties by id. */
export function orderRules(rules: readonly RoutingRuleConfig[]): RoutingRuleConfig[] {
  return rules.filter((r) => r.enable).sort((a, b) => a.priority - b.priority || a.id - b.id);
}

/**
 * Where a dialled alias goes. Incoming: a service whose alias matches exactly (after
 * normalising, §19.2) wins; otherwise it is a gateway call and the first Call Routing Rule that
 * applies and whose regex matches the whole alias decides, and evaluation stops there even if
 * the call then fails (§14.2). Outgoing calls from a conference always go through the rules
 * (services are only reached by incoming calls, §14.1).
 *
 * A rule whose regex is invalid never matches. A rule whose replace string is invalid matches but
 * yields no destination, so the call fails (`none`), as a failed gateway call would.
 */
export function lookupIncomingAlias<T>(dialled: string, directory: AliasDirectory<T>, rules: readonly RoutingRuleConfig[], call: CallContext): RouteResult<T> {
  if (call.direction === 'incoming') {
    const service = directory.serviceByNormalisedAlias(normaliseAlias(dialled));
    if (service !== undefined) return { kind: 'service', service };
  }
  const parsed = parsedAlias(dialled);
  for (const rule of orderRules(rules)) {
    if (!ruleApplies(rule, call)) continue;
    const subject = rule.match_string_full ? dialled.trim() : parsed;
    let match: RegExpExecArray | null;
    try {
      match = fullMatch(rule.match_string, subject);
    } catch (e) {
      if (e instanceof PythonRegexError) continue;
      throw e;
    }
    if (!match) continue;
    try {
      return { kind: 'gateway', rule, destination: expandReplacement(rule.replace_string, match) };
    } catch (e) {
      if (e instanceof PythonRegexError) return { kind: 'none' };
      throw e;
    }
  }
  return { kind: 'none' };
}
