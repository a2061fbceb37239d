import { normaliseAlias } from '../../shared/alias/normalise.js';
import type { NodeConfigSnapshot, ServiceConfig } from '../../shared/node-protocol/messages.js';
import { lookupIncomingAlias, type AliasDirectory, type CallContext, type RouteResult, type RoutingRuleConfig } from '../../shared/routing/callRouting.js';

/**
 * Incoming alias → service or gateway call, from the node's current configuration: services by
 * exact match after normalising (guide §19.2), then Call Routing Rules (§14).
 */
export class ServiceDirectory implements AliasDirectory<ServiceConfig> {
  private byAlias = new Map<string, ServiceConfig>();
  private byId = new Map<number, ServiceConfig>();
  /** By service name (service configuration policy names the service it configures). */
  private byServiceName = new Map<string, ServiceConfig>();
  private rules: RoutingRuleConfig[] = [];

  load(snapshot: NodeConfigSnapshot): void {
    const byAlias = new Map<string, ServiceConfig>();
    const byId = new Map<number, ServiceConfig>();
    for (const s of snapshot.services) {
      byId.set(s.id, s);
      for (const a of s.aliases) byAlias.set(a, s);
    }
    this.byAlias = byAlias;
    this.byId = byId;
    this.byServiceName = new Map(snapshot.services.map((s) => [s.name, s]));
    // A snapshot saved before rules existed has none.
    this.rules = snapshot.routingRules ?? [];
  }

  /** The service an alias reaches (services only; see `route` for gateway calls). */
  lookup(dialled: string): ServiceConfig | undefined {
    return this.byAlias.get(normaliseAlias(dialled));
  }

  serviceByNormalisedAlias(normalised: string): ServiceConfig | undefined {
    return this.byAlias.get(normalised);
  }

  /** A service, else the first matching Call Routing Rule and its destination alias, else none. */
  route(dialled: string, call: CallContext): RouteResult<ServiceConfig> {
    return lookupIncomingAlias(dialled, this, this.rules, call);
  }

  byName(name: string): ServiceConfig | undefined {
    return this.byServiceName.get(name);
  }

  byServiceId(id: number): ServiceConfig | undefined {
    return this.byId.get(id);
  }

  get routingRules(): readonly RoutingRuleConfig[] {
    return this.rules;
  }

  get size(): number {
    return this.byId.size;
  }
}
