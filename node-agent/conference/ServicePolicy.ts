import type { Logger } from 'pino';
import { z } from 'zod';
import { normaliseAlias } from '../../shared/alias/normalise.js';
import { PIN_MESSAGES, validatePins } from '../../shared/conference/pin.js';
import { serviceConfigSchema, type PolicyProfileConfig, type ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { CallContext, RoutingRuleConfig } from '../../shared/routing/callRouting.js';
import { PolicyTemplateRenderer, type TemplateLimits } from './policyTemplate.js';
import type { ServiceDirectory } from './ServiceDirectory.js';

/**
 * Service configuration policy (guide-digest-1 §22): when the node's system location has a policy
 * profile, a dialled alias is resolved
 *
 * 1. by the external policy server, if "Enable external service configuration lookup" is on and the
 *    profile has a URL: `GET <url>/policy/v1/service/configuration?<call info>`. `reject` refuses
 *    the call; `continue` with a service configuration uses it; anything else (continue without a
 *    result, an error status, a non-2xx answer, invalid JSON or configuration, no answer within the
 *    timeout) falls back to the node's own configuration (services, then Call Routing Rules);
 * 2. then by the local policy script, if "Apply local policy" is on: the Jinja2 script gets
 *    `service_config` (what step 1 found, in the policy API's shape; null if nothing) and
 *    `call_info`, and must output JSON `{"action": "continue"|"reject", "result": {…}}`. `reject`
 *    refuses the call; `continue` with a configuration uses it; `continue` without one keeps what
 *    step 1 found; output that is not such JSON is logged and ignored (step 1's result stands).
 *
 * A service built from a policy configuration whose name is that of a configured service takes
 * that service's id (so callers share its conference instance); other names get a stable negative
 * id per name, so every caller given the same name joins one instance on this node.
 */

/** How long the external policy server has to answer before the node uses its own configuration. */
export const DEFAULT_POLICY_TIMEOUT_MS = 5_000;
/** Largest policy server answer read. */
const MAX_RESPONSE_BYTES = 256 * 1024;
export const POLICY_SERVICE_PATH = '/policy/v1/service/configuration';

// ---------------------------------------------------------------------------------------------
// The policy API's service configuration (what the server returns and the local script sees).

const pinField = z
  .string()
  .max(20)
  .nullish()
  .transform((v) => v ?? '');

/** `result` of a service configuration response (or of a local policy script). Unknown keys are kept. */
export const policyServiceConfigSchema = z
  .looseObject({
    service_type: z.enum(['conference', 'lecture', 'two_stage_dialing', 'test_call', 'gateway']),
    name: z.string().trim().min(1).max(250),
    service_tag: z.string().max(250).nullish(),
    description: z.string().max(250).nullish(),
    pin: pinField,
    guest_pin: pinField,
    allow_guests: z.boolean().nullish(),
    participant_limit: z.number().int().min(0).max(1_000_000).nullish(),
    guests_can_present: z.boolean().nullish(),
    enable_chat: z.enum(['default', 'yes', 'no']).nullish(),
    /** Virtual Reception: destination alias regex. */
    match_string: z.string().max(250).nullish(),
    replace_string: z.string().max(250).nullish(),
    /** Gateway calls: the alias to call, and the caller's alias. */
    remote_alias: z.string().max(250).nullish(),
    local_alias: z.string().max(250).nullish(),
    outgoing_protocol: z.string().max(16).nullish(),
  })
  .superRefine((v, ctx) => {
    if (v.service_type === 'gateway') {
      if (!v.remote_alias) ctx.addIssue({ code: 'custom', path: ['remote_alias'], message: 'remote_alias is required for a gateway call' });
      return;
    }
    const errors = validatePins({ pin: v.pin, guestPin: v.guest_pin, allowGuests: v.allow_guests ?? false });
    for (const [field, messages] of Object.entries(errors)) {
      // Allow Guests without a Host PIN: everyone joins as Host (the PIN rules' matrix), not an error here.
      for (const message of messages.filter((m) => m !== PIN_MESSAGES.allowGuestsNeedsHost)) ctx.addIssue({ code: 'custom', path: [field], message });
    }
  });
export type PolicyServiceConfig = z.infer<typeof policyServiceConfigSchema>;

/** The policy server's answer to a service configuration request. */
export const externalServiceResponseSchema = z.object({
  status: z.string(),
  action: z.enum(['continue', 'reject']).default('continue'),
  result: z.unknown().optional(),
});

/** A local policy script's output. */
export const localPolicyOutputSchema = z.object({
  status: z.string().optional(),
  action: z.enum(['continue', 'reject']),
  result: z.unknown().optional(),
});

/** The request parameters (external policy query string; `call_info` of local policy). */
export interface PolicyCallInfo {
  protocol: 'api';
  call_direction: 'dial_in';
  bandwidth: number;
  call_tag: string;
  local_alias: string;
  location: string;
  node_ip: string;
  pseudo_version_id: string;
  registered: boolean;
  remote_address: string;
  remote_alias: string;
  remote_display_name: string;
  remote_port: number;
  service_tag: string;
  trigger: 'web';
  vendor: string;
  version_id: string;
}

/** What the node knows about a call when it needs its service. */
export interface PolicyCallRequest {
  displayName: string;
  remoteAddress: string;
  remotePort?: number;
  /** The node address the call arrived on. */
  nodeIp: string;
  callTag?: string;
  /** The caller's User-Agent. */
  vendor?: string;
}

export const POLICY_VERSION = { version_id: '24', pseudo_version_id: '0.1.0' };

const stripV4Mapped = (ip: string) => (ip.startsWith('::ffff:') ? ip.slice(7) : ip);

/**
 * The request's parameters as Pexip sends them for a client API (Infinity Connect) call:
 * protocol `api`, trigger `web`, call_direction `dial_in`, the display name as remote alias.
 */
export function policyCallInfo(dialled: string, call: PolicyCallRequest, location: string): PolicyCallInfo {
  return {
    protocol: 'api',
    call_direction: 'dial_in',
    bandwidth: 0,
    call_tag: call.callTag ?? '',
    local_alias: dialled,
    location,
    node_ip: stripV4Mapped(call.nodeIp),
    pseudo_version_id: POLICY_VERSION.pseudo_version_id,
    registered: false,
    remote_address: stripV4Mapped(call.remoteAddress),
    remote_alias: call.displayName,
    remote_display_name: call.displayName,
    remote_port: call.remotePort ?? 0,
    service_tag: '',
    trigger: 'web',
    vendor: call.vendor ?? '',
    version_id: POLICY_VERSION.version_id,
  };
}

/** Query string values as Python renders them (`False`, `0`). */
export function policyQuery(info: PolicyCallInfo): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(info)) q.set(k, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
  return q;
}

/** The request URL: the profile's URL (with any path) + the service configuration path + the parameters. */
export function policyRequestUrl(base: string, info: PolicyCallInfo): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${POLICY_SERVICE_PATH}`;
  url.search = policyQuery(info).toString();
  return url;
}

// ---------------------------------------------------------------------------------------------

/** Where a dialled alias goes. `gateway` calls cannot be placed by nodes yet. */
export type PolicyRoute =
  { kind: 'service'; service: ServiceConfig } | { kind: 'gateway'; rule: { name: string }; destination: string } | { kind: 'reject' } | { kind: 'none' };

/** A resolution step's outcome, with the configuration in the policy API's shape for the next step. */
interface Found {
  route: PolicyRoute;
  config: PolicyServiceConfig | null;
}

const CHAT: Record<'default' | 'yes' | 'no', boolean | null> = { default: null, yes: true, no: false };

/** A configured service in the policy API's shape (the local script's `service_config`). */
export function toPolicyConfig(service: ServiceConfig): PolicyServiceConfig {
  return {
    service_type: service.serviceType,
    name: service.name,
    service_tag: service.tag,
    description: '',
    pin: service.pin,
    guest_pin: service.guestPin,
    allow_guests: service.allowGuests,
    participant_limit: service.participantLimit,
    guests_can_present: service.guestsCanPresent,
    enable_chat: service.chatEnabled === null ? 'default' : service.chatEnabled ? 'yes' : 'no',
    ...(service.serviceType === 'two_stage_dialing' ? { match_string: service.matchString, replace_string: service.replaceString } : {}),
  };
}

function gatewayConfig(rule: RoutingRuleConfig, destination: string): PolicyServiceConfig {
  return {
    service_type: 'gateway',
    name: rule.name,
    service_tag: rule.tag,
    pin: '',
    guest_pin: '',
    remote_alias: destination,
    outgoing_protocol: rule.outgoing_protocol,
    call_type: rule.call_type,
  };
}

export interface ServicePolicyOptions {
  /** The node's own configuration. */
  directory: ServiceDirectory;
  /** The policy profile of the node's system location, if any. */
  profile: () => PolicyProfileConfig | null;
  /** The node's system location name. */
  location: () => string | null;
  log: Logger;
  /** External policy request timeout (default 5 s). */
  timeoutMs?: number;
  templateLimits?: Partial<TemplateLimits>;
}

/** Service configuration policy of one node. */
export class ServicePolicy {
  private readonly syntheticIds = new Map<string, number>();
  private readonly renderer: PolicyTemplateRenderer;
  private readonly log: Logger;

  constructor(private readonly opts: ServicePolicyOptions) {
    this.log = opts.log;
    this.renderer = new PolicyTemplateRenderer({ log: opts.log.child({ part: 'jinja2' }), limits: opts.templateLimits });
  }

  /** Whether calls go through policy: the location has a profile with a lookup or script enabled. */
  get active(): boolean {
    const p = this.opts.profile();
    return p !== null && (this.externalEnabled(p) || this.localEnabled(p));
  }

  private externalEnabled(p: PolicyProfileConfig): boolean {
    return p.externalServiceLookup && p.url !== '';
  }

  private localEnabled(p: PolicyProfileConfig): boolean {
    return p.localServicePolicy && p.localServiceScript.trim() !== '';
  }

  /** Where `dialled` goes for this call, after external and local policy. */
  async resolve(dialled: string, call: PolicyCallRequest): Promise<PolicyRoute> {
    const location = this.opts.location() ?? '';
    const own = (): Found => this.own(dialled, location);
    const profile = this.opts.profile();
    if (!profile) return own().route;
    const info = policyCallInfo(dialled, call, location);
    let found: Found;
    if (this.externalEnabled(profile)) {
      const external = await this.external(profile, info);
      if (external === 'reject') return { kind: 'reject' };
      found = external ?? own();
    } else {
      found = own();
    }
    if (this.localEnabled(profile)) {
      const local = this.local(profile, info, found);
      if (local === 'reject') return { kind: 'reject' };
      if (local) found = local;
    }
    return found.route;
  }

  /** The node's own configuration: services, then Call Routing Rules. */
  private own(dialled: string, location: string): Found {
    const call: CallContext = { direction: 'incoming', protocol: 'webrtc', location: location || null, registered: false };
    const route = this.opts.directory.route(dialled, call);
    if (route.kind === 'service') return { route, config: toPolicyConfig(route.service) };
    if (route.kind === 'gateway') return { route, config: gatewayConfig(route.rule, route.destination) };
    return { route: { kind: 'none' }, config: null };
  }

  /** A service (or gateway call) from a policy configuration. */
  private fromPolicy(config: PolicyServiceConfig, dialled: string): Found {
    if (config.service_type === 'gateway') return { route: { kind: 'gateway', rule: { name: config.name }, destination: config.remote_alias ?? '' }, config };
    const configured = this.opts.directory.byName(config.name);
    let id = configured?.id ?? this.syntheticIds.get(config.name);
    if (id === undefined) {
      id = -(this.syntheticIds.size + 1);
      this.syntheticIds.set(config.name, id);
    }
    // Parsed so that fields this code does not set take their defaults.
    const service = serviceConfigSchema.parse({
      id,
      name: config.name,
      serviceType: config.service_type,
      pin: config.pin,
      guestPin: config.guest_pin,
      allowGuests: config.allow_guests ?? false,
      participantLimit: config.participant_limit ?? null,
      aliases: configured?.aliases ?? [normaliseAlias(dialled)],
      guestsCanPresent: config.guests_can_present ?? true,
      chatEnabled: CHAT[config.enable_chat ?? 'default'],
      matchString: config.match_string ?? '',
      replaceString: config.replace_string ?? '',
      themeId: configured?.themeId ?? null,
      tag: config.service_tag ?? '',
    } satisfies z.input<typeof serviceConfigSchema>);
    return { route: { kind: 'service', service }, config };
  }

  /** External policy: a configuration, 'reject', or null to fall back to the node's own. */
  private async external(profile: PolicyProfileConfig, info: PolicyCallInfo): Promise<Found | 'reject' | null> {
    let url: URL;
    try {
      url = policyRequestUrl(profile.url, info);
    } catch {
      this.log.warn({ profile: profile.name }, 'Policy profile URL is not valid; using the local configuration');
      return null;
    }
    const ctx = { profile: profile.name, policyServer: url.origin, alias: info.local_alias };
    const headers: Record<string, string> = { accept: 'application/json' };
    if (profile.username !== '') headers.authorization = `Basic ${Buffer.from(`${profile.username}:${profile.password}`).toString('base64')}`;
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
    this.log.debug({ ...ctx, path: url.pathname, query: url.search }, 'External policy service configuration request');
    let body: string;
    try {
      const res = await fetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) {
        void res.body?.cancel().catch(() => undefined);
        this.log.warn({ ...ctx, status: res.status }, 'External policy server answered with an error; using the local configuration');
        return null;
      }
      body = await readLimited(res, MAX_RESPONSE_BYTES);
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      this.log.warn(
        { ...ctx, reason: timedOut ? `no answer within ${timeoutMs} ms` : errorText(err) },
        'External policy request failed; using the local configuration',
      );
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      this.log.warn(ctx, 'External policy server answered with invalid JSON; using the local configuration');
      return null;
    }
    const parsed = externalServiceResponseSchema.safeParse(json);
    if (!parsed.success || parsed.data.status !== 'success') {
      this.log.warn(
        { ...ctx, status: parsed.success ? parsed.data.status : undefined },
        'External policy server answered without success; using the local configuration',
      );
      return null;
    }
    if (parsed.data.action === 'reject') {
      this.log.info(ctx, 'External policy rejected the call');
      return 'reject';
    }
    const result = parsed.data.result;
    if (result === undefined || result === null || isEmptyObject(result)) {
      this.log.debug(ctx, 'External policy continued without a configuration; using the local configuration');
      return null;
    }
    const config = policyServiceConfigSchema.safeParse(result);
    if (!config.success) {
      this.log.warn(
        { ...ctx, problem: issueText(config.error) },
        'External policy server returned an invalid service configuration; using the local configuration',
      );
      return null;
    }
    this.log.debug({ ...ctx, service: config.data.name, serviceType: config.data.service_type }, 'External policy returned a service configuration');
    return this.fromPolicy(config.data, info.local_alias);
  }

  /** Local policy: a new configuration, 'reject', or null to keep `found`. */
  private local(profile: PolicyProfileConfig, info: PolicyCallInfo, found: Found): Found | 'reject' | null {
    const ctx = { profile: profile.name, alias: info.local_alias };
    let output: string;
    try {
      output = this.renderer.render(profile.localServiceScript, { service_config: found.config, call_info: info });
    } catch (err) {
      this.log.warn({ ...ctx, problem: errorText(err) }, 'Local policy script failed; using the configuration found before it');
      return null;
    }
    let json: unknown;
    try {
      json = JSON.parse(output);
    } catch {
      this.log.warn({ ...ctx, output: output.slice(0, 500) }, 'Local policy script did not output JSON; using the configuration found before it');
      return null;
    }
    const parsed = localPolicyOutputSchema.safeParse(json);
    if (!parsed.success) {
      this.log.warn(
        { ...ctx, problem: issueText(parsed.error) },
        'Local policy script output is not {action, result}; using the configuration found before it',
      );
      return null;
    }
    if (parsed.data.action === 'reject') {
      this.log.info(ctx, 'Local policy rejected the call');
      return 'reject';
    }
    const result = parsed.data.result;
    if (result === undefined || result === null || isEmptyObject(result)) return null;
    const config = policyServiceConfigSchema.safeParse(result);
    if (!config.success) {
      this.log.warn(
        { ...ctx, problem: issueText(config.error) },
        'Local policy script returned an invalid service configuration; using the configuration found before it',
      );
      return null;
    }
    return this.fromPolicy(config.data, info.local_alias);
  }
}

const isEmptyObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
const errorText = (err: unknown) =>
  err instanceof Error
    ? err.message
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' ')
    : String(err);
const issueText = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

async function readLimited(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error(`answer larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
