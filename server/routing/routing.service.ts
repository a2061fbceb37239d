import { gatewayRoutingRuleResource, sipProxyResource } from '../../shared/config/resources/callControl.js';
import { routingRuleConfigSchema, type RoutingRuleConfig } from '../../shared/routing/callRouting.js';
import { listRecords, referenceNames } from '../config/config.service.js';
import type { Domain } from '../domain.js';

/**
 * Call Routing Rules as the conferencing nodes need them: enabled or not (the node ignores
 * disabled ones), references resolved to names and addresses, in priority order.
 */
export async function routingRulesForNodes(dom: Domain): Promise<RoutingRuleConfig[]> {
  const rules = (await listRecords(dom, gatewayRoutingRuleResource, { limit: 10_000, orderBy: 'priority' })).items;
  if (rules.length === 0) return [];
  const locationIds = rules.flatMap((r) => [r.match_source_location, r.outgoing_location]).filter((id) => id !== null);
  const proxyIds = rules.flatMap((r) => (r.sip_proxy === null ? [] : [r.sip_proxy]));
  const [locations, proxies] = await Promise.all([
    referenceNames(dom, 'system_location', [...new Set(locationIds)]),
    proxyIds.length === 0
      ? []
      : listRecords(dom, sipProxyResource, { ids: [...new Set(proxyIds)], limit: proxyIds.length, orderBy: 'id' }).then((r) => r.items),
  ]);
  // As the location's proxy: host[:port];transport=… (no port: SRV for that transport).
  const proxyAddress = new Map(proxies.map((p) => [p.id, `${p.port ? `${p.address}:${p.port}` : p.address};transport=${p.transport}`]));
  const nameOf = (names: Map<number, string>, id: number | null) => (id === null ? null : (names.get(id) ?? null));
  const out: RoutingRuleConfig[] = [];
  for (const r of rules) {
    const parsed = routingRuleConfigSchema.safeParse({
      ...r,
      match_source_location_name: nameOf(locations, r.match_source_location),
      outgoing_location_name: nameOf(locations, r.outgoing_location),
      sip_proxy_address: nameOf(proxyAddress, r.sip_proxy),
    });
    if (parsed.success) out.push(parsed.data);
  }
  return out.sort((a, b) => a.priority - b.priority || a.id - b.id);
}
