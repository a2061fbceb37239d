import { systemLocation } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { routingRuleConfigSchema, type RoutingRuleConfig } from '../../shared/routing/callRouting.js';
import { listObjects } from '../config/config.service.js';

/**
 * Call Routing Rules as the conferencing nodes need them: enabled or not (the node ignores
 * disabled ones), references resolved to names and addresses, in priority order.
 */
export async function routingRulesForNodes(db: Database): Promise<RoutingRuleConfig[]> {
  const dom = { db, bus: { notify() {} } } as never;
  const rules = (await listObjects(dom, 'gateway_routing_rule', { limit: 10_000, orderBy: 'priority' })).items;
  if (rules.length === 0) return [];
  const locations = new Map((await db.select({ id: systemLocation.id, name: systemLocation.name }).from(systemLocation)).map((l) => [l.id, l.name]));
  const proxies = new Map(
    (await listObjects(dom, 'sip_proxy', { limit: 10_000 })).items.map((p) => [p.id, p.port ? `${String(p.address)}:${String(p.port)}` : String(p.address)]),
  );
  const out: RoutingRuleConfig[] = [];
  for (const r of rules) {
    const parsed = routingRuleConfigSchema.safeParse({
      ...r,
      match_source_location_name: typeof r.match_source_location === 'number' ? (locations.get(r.match_source_location) ?? null) : null,
      outgoing_location_name: typeof r.outgoing_location === 'number' ? (locations.get(r.outgoing_location) ?? null) : null,
      sip_proxy_address: typeof r.sip_proxy === 'number' ? (proxies.get(r.sip_proxy) ?? null) : null,
    });
    if (parsed.success) out.push(parsed.data);
  }
  return out.sort((a, b) => a.priority - b.priority || a.id - b.id);
}
