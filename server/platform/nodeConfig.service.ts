import { createHash } from 'node:crypto';
import { asc } from 'drizzle-orm';
import { ivrTheme } from '../../db/schema.js';
import {
  nodeConfigSnapshotSchema,
  registrarConfigSchema,
  nodeSettingsSchema,
  stunServerConfigSchema,
  turnServerConfigSchema,
  type LocationConfig,
  type NodeConfigSnapshot,
  type NodeSettings,
  type DeviceConfig,
  type PlatformConfig,
  type RegistrarConfig,
  SIP_REGISTRAR_REALM,
  type ServiceConfig,
  type EventSinkConfig,
  type PolicyProfileConfig,
  type StunServerConfig,
  type SyslogServerConfig,
  type TurnServerConfig,
} from '../../shared/node-protocol/messages.js';
import type { RoutingRuleConfig } from '../../shared/routing/callRouting.js';
import { tlsCertificatesByNode } from '../certificate/certificate.service.js';
import { servicesForNodes } from '../conference/servicesForNodes.js';
import { getSingletonRecord, listRecords, referenceNames } from '../config/config.service.js';
import type { RecordOf } from '../../shared/config/record.js';
import type { ResourceDef } from '../../shared/config/resource.js';
import { policyServerResource, sipProxyResource, stunServerResource, turnServerResource } from '../../shared/config/resources/callControl.js';
import { deviceResource, registrationResource } from '../../shared/config/resources/usersDevices.js';
import { globalResource, systemLocationResource, workerVmResource } from '../../shared/config/resources/platform.js';
import { eventSinkResource, syslogServerResource } from '../../shared/config/resources/system.js';
import type { Domain } from '../domain.js';
import { routingRulesForNodes } from '../routing/routing.service.js';

/**
 * Builds the complete configuration snapshot each conferencing node receives: the parts every node
 * shares (services, Call Routing Rules, global settings, themes) once per push, the system location
 * block once per location, and the node block (maintenance mode) per node.
 */

const digest = (s: string) => createHash('sha256').update(s).digest('hex');

/** What every node gets, with a hash of it so per-node versions need not re-serialise it. */
export interface SharedNodeConfig {
  services: ServiceConfig[];
  routingRules: RoutingRuleConfig[];
  settings: NodeSettings;
  themes: { id: number; hash: string }[];
  devices: DeviceConfig[];
  registrar: RegistrarConfig;
  platform: PlatformConfig;
  hash: string;
}

export interface LocationBlock {
  config: LocationConfig;
  hash: string;
}

/** A node as its snapshot describes it (the `worker_vm` resource). */
export interface NodeRow {
  id: number;
  name: string;
  maintenanceMode: boolean;
  systemLocationId: number;
  systemLocation: string;
}

/** A location's break-in override: GLOBAL (default), ON or OFF. */
const overrideOf = (v: string, global: boolean) => (v === 'ON' ? true : v === 'OFF' ? false : global);

const sharedPartsSchema = nodeConfigSnapshotSchema.pick({
  services: true,
  routingRules: true,
  settings: true,
  themes: true,
  devices: true,
  registrar: true,
  platform: true,
});

export class NodeConfigBuilder {
  constructor(private readonly dom: Domain) {}

  async shared(): Promise<SharedNodeConfig> {
    const [services, routingRules, settings, themes, devices, registrar, platform] = await Promise.all([
      servicesForNodes(this.dom),
      routingRulesForNodes(this.dom),
      this.settings(),
      this.themes(),
      this.devices(),
      this.registrar(),
      this.platform(),
    ]);
    // Validated once per push against the contract, not once per node.
    const parts = sharedPartsSchema.parse({ services, routingRules, settings, themes, devices, registrar, platform });
    return { ...parts, hash: digest(JSON.stringify(parts)) };
  }

  /** Locations' media handling and nodes' roles and capacities, for every node's media allocation. */
  async platform(): Promise<PlatformConfig> {
    const [locations, nodes] = await Promise.all([
      listRecords(this.dom, systemLocationResource, { limit: 1_000_000, orderBy: 'id' }),
      listRecords(this.dom, workerVmResource, { limit: 1_000_000, orderBy: 'id' }),
    ]);
    return {
      locations: locations.items.map((l) => ({
        id: l.id,
        name: l.name,
        transcodingLocation: l.transcoding_location,
        primaryOverflow: l.overflow_location1,
        secondaryOverflow: l.overflow_location2,
      })),
      nodes: nodes.items.map((n) => ({
        id: n.id,
        name: n.name,
        location: n.system_location,
        role: n.node_type === 'PROXYING' ? 'proxying' : 'transcoding',
        maintenance: n.maintenance_mode,
        capacityHdCalls: n.media_capacity,
      })),
    };
  }

  /** Services > Registrar for every node's registrar. */
  async registrar(): Promise<RegistrarConfig> {
    const r = await getSingletonRecord(this.dom, registrationResource);
    return registrarConfigSchema.parse({
      enabled: r.enable,
      strategy: r.refresh_strategy === 'maximum' ? 'basic' : 'adaptive',
      adaptiveMin: r.adaptive_min_refresh,
      adaptiveMax: r.adaptive_max_refresh,
      basicMin: r.maximum_min_refresh,
      basicMax: r.maximum_max_refresh,
      nattedMin: r.natted_min_refresh,
      nattedMax: r.natted_max_refresh,
    });
  }

  /** The device allow-list for the nodes' registrars: HA1 for Digest instead of the password. */
  async devices(): Promise<DeviceConfig[]> {
    const { items } = await listRecords(this.dom, deviceResource, { limit: 1_000_000, orderBy: 'id' });
    return items.map((d) => ({
      alias: d.alias,
      enableSip: d.enable_sip,
      ...(d.username
        ? {
            username: d.username,
            ha1: createHash('md5')
              .update(`${d.username}:${SIP_REGISTRAR_REALM}:${d.password ?? ''}`)
              .digest('hex'),
          }
        : {}),
    }));
  }

  /** Platform > Global Settings, as far as the nodes act on them. */
  async settings(): Promise<NodeSettings> {
    const g = await getSingletonRecord(this.dom, globalResource);
    return nodeSettingsSchema.parse({
      guestsOnlyTimeout: g.guests_only_timeout,
      lastParticipantBackstopTimeout: g.eject_last_participant_backstop_timeout,
      waitingForHostTimeout: g.waiting_for_chair_timeout,
      pinEntryTimeout: g.pin_entry_timeout,
      chatEnabled: g.enable_chat,
      cryptoMode: g.crypto_mode,
      mediaPorts: [g.media_ports_start, g.media_ports_end],
      defaultThemeId: g.default_theme,
      maxPinFailuresPerWindow: g.bdpm_max_pin_failures_per_window,
      maxScanAttemptsPerWindow: g.bdpm_max_scan_attempts_per_window,
      trustedProxies: g.trusted_proxies,
      enableSip: g.enable_sip,
      enableSipUdp: g.enable_sip_udp,
    });
  }

  /** Every theme with the hash of its package, stored when it was uploaded. */
  async themes(): Promise<{ id: number; hash: string }[]> {
    return this.dom.db.select({ id: ivrTheme.id, hash: ivrTheme.packageSha256 }).from(ivrTheme).orderBy(asc(ivrTheme.id));
  }

  /** The given nodes' own blocks, from the database (maintenance mode and location may have changed since they connected). */
  async nodes(ids: number[]): Promise<Map<number, NodeRow>> {
    if (ids.length === 0) return new Map();
    const { items } = await listRecords(this.dom, workerVmResource, { ids, limit: ids.length, orderBy: 'id' });
    const locations = await referenceNames(this.dom, 'system_location', [...new Set(items.map((n) => n.system_location))]);
    const out = new Map<number, NodeRow>();
    for (const n of items) {
      const systemLocation = locations.get(n.system_location);
      if (systemLocation === undefined) continue;
      out.set(n.id, { id: n.id, name: n.name, maintenanceMode: n.maintenance_mode, systemLocationId: n.system_location, systemLocation });
    }
    return out;
  }

  /** Each given system location with its client STUN/TURN servers resolved, in the order configured. */
  async locations(ids: number[]): Promise<Map<number, LocationBlock>> {
    const out = new Map<number, LocationBlock>();
    const wanted = new Set(ids);
    if (wanted.size === 0) return out;
    const all = (await listRecords(this.dom, systemLocationResource, { limit: 10_000, orderBy: 'id' })).items;
    const locations = all.filter((l) => wanted.has(l.id));
    const idsOf = (pick: (l: (typeof locations)[number]) => number[]) => [...new Set(locations.flatMap(pick))];
    const [stunById, turnById, syslogById, sinkById, policyById, global, proxyById] = await Promise.all([
      this.byId(
        stunServerResource,
        idsOf((l) => l.client_stun_servers),
        (t): StunServerConfig => stunServerConfigSchema.parse({ address: t.address, port: t.port }),
      ),
      this.byId(
        turnServerResource,
        idsOf((l) => l.client_turn_servers),
        (t): TurnServerConfig =>
          turnServerConfigSchema.parse({
            address: t.address,
            port: t.port,
            transport: t.transport_type,
            serverType: t.server_type,
            username: t.username,
            password: t.password,
            secretKey: t.secret_key,
          }),
      ),
      this.byId(
        syslogServerResource,
        idsOf((l) => l.syslog_servers),
        (p): SyslogServerConfig => ({
          address: p.address,
          port: p.port,
          transport: p.transport,
          supportLog: p.support_log,
          auditLog: p.audit_log,
          webLog: p.web_log,
        }),
      ),
      this.byId(
        eventSinkResource,
        idsOf((l) => l.event_sinks),
        (p): EventSinkConfig => ({
          name: p.name,
          url: p.url,
          username: p.username,
          password: p.password,
          verifyTls: p.verify_tls_certificate,
          bulkSupport: p.bulk_support,
          version: p.version,
        }),
      ),
      this.byId(
        policyServerResource,
        idsOf((l) => (l.policy_server === null ? [] : [l.policy_server])),
        (p): PolicyProfileConfig => ({
          name: p.name,
          url: p.url,
          username: p.username,
          password: p.password,
          externalServiceLookup: p.enable_service_lookup,
          localServicePolicy: p.enable_internal_service_policy,
          localServiceScript: p.internal_service_policy_template,
        }),
      ),
      getSingletonRecord(this.dom, globalResource),
      // The SIP proxy for outbound calls from this location, as a host:port;transport the node sends to.
      this.byId(
        sipProxyResource,
        idsOf((l) => (l.sip_proxy === null ? [] : [l.sip_proxy])),
        (p) => `${p.address}${p.port ? `:${p.port}` : ''};transport=${p.transport}`,
      ),
    ]);
    for (const l of locations) {
      const config: LocationConfig = {
        name: l.name,
        syslogServers: l.syslog_servers.flatMap((id) => syslogById.get(id) ?? []),
        eventSinks: l.event_sinks.flatMap((id) => sinkById.get(id) ?? []),
        policyProfile: l.policy_server === null ? null : (policyById.get(l.policy_server) ?? null),
        pinBruteForceResistance: overrideOf(l.bdpm_pin_checks_enabled, global.bdpm_pin_checks_enabled),
        voipScannerResistance: overrideOf(l.bdpm_scan_quarantine_enabled, global.bdpm_scan_quarantine_enabled),
        clientStunServers: l.client_stun_servers.flatMap((id) => stunById.get(id) ?? []),
        clientTurnServers: l.client_turn_servers.flatMap((id) => turnById.get(id) ?? []),
        useRelayCandidatesOnly: l.use_relay_candidates_only,
        sipProxy: l.sip_proxy === null ? null : (proxyById.get(l.sip_proxy) ?? null),
      };
      out.set(l.id, { config, hash: digest(JSON.stringify(config)) });
    }
    return out;
  }

  /** Servers a location names, in the nodes' form, by id: one read per kind instead of one per object. */
  private async byId<D extends ResourceDef, T>(def: D, ids: number[], toNode: (r: RecordOf<D>) => T): Promise<Map<number, T>> {
    if (ids.length === 0) return new Map();
    const { items } = await listRecords(this.dom, def, { ids, limit: ids.length, orderBy: 'id' });
    return new Map(items.map((r) => [r.id, toNode(r)]));
  }

  /** One node's snapshot; its version changes exactly when any part of it changes. */
  snapshot(node: NodeRow, shared: SharedNodeConfig, location: LocationBlock | undefined, tls: NodeConfigSnapshot['tls'] = null): NodeConfigSnapshot {
    const nodeBlock = { id: node.id, name: node.name, systemLocation: node.systemLocation, maintenanceMode: node.maintenanceMode };
    const tlsHash = tls ? digest(tls.certificate + tls.privateKey) : '-';
    const version = digest(`${shared.hash}\n${location?.hash ?? '-'}\n${JSON.stringify(nodeBlock)}\n${tlsHash}`).slice(0, 16);
    return {
      version,
      generatedAt: new Date().toISOString(),
      node: nodeBlock,
      location: location?.config ?? null,
      tls,
      settings: shared.settings,
      services: shared.services,
      routingRules: shared.routingRules,
      themes: shared.themes,
      devices: shared.devices,
      registrar: shared.registrar,
      platform: shared.platform,
    };
  }

  /** Snapshots for the given nodes (those still in the database), sharing every common part. */
  async build(nodeIds: number[]): Promise<Map<number, NodeConfigSnapshot>> {
    const [shared, nodes, certificates] = await Promise.all([this.shared(), this.nodes(nodeIds), tlsCertificatesByNode(this.dom.db)]);
    const locations = await this.locations([...new Set([...nodes.values()].map((n) => n.systemLocationId))]);
    const out = new Map<number, NodeConfigSnapshot>();
    for (const n of nodes.values()) out.set(n.id, this.snapshot(n, shared, locations.get(n.systemLocationId), certificates.get(n.id) ?? null));
    return out;
  }
}
