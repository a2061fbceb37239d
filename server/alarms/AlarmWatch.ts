import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isNotNull } from 'drizzle-orm';
import { conferencingNode } from '../../db/schema.js';
import type { NodeToServer } from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import { certificateAlarms } from '../certificate/certificate.service.js';
import type { Domain } from '../domain.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import type { AlarmManager } from './AlarmManager.js';
import { alarmKeyOf } from './alarmCatalogue.js';
import { claimRun, intervalSlot } from '../platform/cluster/scheduledRuns.js';

export interface AlarmWatchOptions {
  /** How often the certificate store is checked for expiry; default 1 hour (and after every configuration change). */
  certificateCheckMs?: number;
  /** A node that has not applied the configuration sent to it within this raises "Configuration not synchronized"; default 3 minutes (the guide's 2 replication intervals). */
  configSyncMs?: number;
  /** After a start, how long nodes seen before have to connect again before they count as lost; default 1 minute. */
  startupGraceMs?: number;
  /** The management node's name in alarms' `Source=`; default the host name. */
  managementName?: string;
  clock?: Clock;
}

interface PendingConfig {
  version: string;
  timer: ClockTimer;
}

/**
 * Raises and lowers the alarms the management server can see for itself: a node lost (connectivity),
 * a node that has not applied its configuration, certificates expiring, and what nodes report of
 * their own (event sinks, syslog servers, a call refused for want of capacity).
 */
export class AlarmWatch {
  private readonly clock: Clock;
  private readonly certificateTimer: ClockTimer;
  private certificateDebounce: NodeJS.Timeout | null = null;
  private readonly pendingConfig = new Map<number, PendingConfig>();
  private readonly source: string;
  private stopped = false;

  constructor(
    private readonly alarms: AlarmManager,
    private readonly dom: Domain,
    private readonly registry: Pick<NodeRegistry, 'onNodePresence' | 'onConfigPushed' | 'onNodeMessage' | 'isLive'>,
    private readonly log: Logger,
    private readonly opts: AlarmWatchOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.source = opts.managementName ?? hostname();
    registry.onNodePresence((node, state) => {
      const id = { alarm: 'connectivity_lost' as const, node: node.name, instance: `Source=${this.source}, Destination=${node.name}` };
      if (state === 'lost') {
        this.forgetPending(node.id);
        this.act(this.alarms.raise({ ...id, details: 'Unable to contact node.' }));
      } else {
        this.act(this.alarms.lower(id));
        // Back with the latest configuration already (nothing was sent on connecting): in sync again.
        if (!this.pendingConfig.has(node.id)) this.act(this.alarms.lower({ alarm: 'configuration_sync_failure', node: node.name, instance: node.name }));
      }
    });
    registry.onConfigPushed((node, version) => this.expectApplied(node, version));
    registry.onNodeMessage((node, msg) => this.accept(node, msg));
    // The periodic check runs on one management server per interval when several share the database.
    const every = opts.certificateCheckMs ?? 3_600_000;
    this.certificateTimer = this.clock.setInterval(() => {
      this.act(claimRun(dom.db, 'certificate_check', intervalSlot(every, this.clock.now())).then((mine) => (mine ? this.checkCertificates() : undefined)));
    }, every);
    this.certificateTimer.unref();
    // A certificate uploaded or deleted changes the answer at once, not at the next hourly check.
    dom.bus.on('changed', this.onConfigChanged);
    this.checkCertificates();
    // A node that went down while this server was not running is never seen to go: it is missed instead.
    this.startupTimer = this.clock.setTimeout(() => this.act(this.checkMissingNodes()), opts.startupGraceMs ?? 60_000);
    this.startupTimer.unref();
  }

  private readonly startupTimer: ClockTimer;

  /** Nodes seen before (a last contact) that have not connected since this server started: connectivity lost. */
  async checkMissingNodes(): Promise<void> {
    const nodes = await this.dom.db
      .select({ id: conferencingNode.id, name: conferencingNode.name })
      .from(conferencingNode)
      .where(isNotNull(conferencingNode.lastContacted));
    for (const n of nodes) {
      if (this.stopped || this.registry.isLive(n.id)) continue;
      await this.alarms.raise({
        alarm: 'connectivity_lost',
        node: n.name,
        instance: `Source=${this.source}, Destination=${n.name}`,
        details: 'Unable to contact node.',
      });
    }
  }

  private certificateChecks: Promise<void> = Promise.resolve();

  private readonly onConfigChanged = () => {
    if (this.certificateDebounce) return;
    this.certificateDebounce = setTimeout(() => {
      this.certificateDebounce = null;
      this.checkCertificates();
      this.act(this.lowerForDeletedNodes());
    }, 500);
  };

  private act(p: Promise<unknown>): void {
    p.catch((err: unknown) => {
      if (!this.stopped) this.log.error({ err }, 'alarm could not be recorded');
    });
  }

  /** Every TLS and trusted CA certificate expiring within 30 days or expired is one alarm instance. */
  checkCertificates(): Promise<void> {
    // One check at a time, each reading the time when it starts: overlapping checks could finish out of
    // order and leave an older check's details ("expires on") over a newer one's ("expired on").
    const run = this.certificateChecks.then(async () => {
      const found = await certificateAlarms(this.dom, new Date(this.clock.now()));
      for (const key of ['tls_certificate_expiring', 'trustedca_expiring'] as const) {
        const wanted = found.filter((c) => c.alarm === key).map((c) => ({ alarm: key, instance: c.subject_name, details: c.details }));
        await this.alarms.reconcile(key, wanted);
      }
    });
    this.act(run);
    this.certificateChecks = run.catch(() => {});
    return this.certificateChecks;
  }

  /** A node deleted from the configuration has nothing left to alarm about: its alarms are lowered. */
  async lowerForDeletedNodes(): Promise<void> {
    const names = new Set((await this.dom.db.select({ name: conferencingNode.name }).from(conferencingNode)).map((n) => n.name));
    for (const a of await this.alarms.active()) {
      const key = alarmKeyOf(a.identifier);
      if (a.node === '' || names.has(a.node) || !key) continue;
      await this.alarms.lower({ alarm: key, node: a.node, instance: a.instance });
    }
  }

  private expectApplied(node: { id: number; name: string }, version: string): void {
    this.forgetPending(node.id);
    // Still awaited after it fires: only the latest version's config_applied lowers the alarm.
    const timer = this.clock.setTimeout(() => {
      this.act(
        this.alarms.raise({
          alarm: 'configuration_sync_failure',
          node: node.name,
          instance: node.name,
          details: `Configuration version ${version.slice(0, 12)} not applied`,
        }),
      );
    }, this.opts.configSyncMs ?? 180_000);
    timer.unref();
    this.pendingConfig.set(node.id, { version, timer });
  }

  private forgetPending(nodeId: number): void {
    const p = this.pendingConfig.get(nodeId);
    if (p) this.clock.clearTimeout(p.timer);
    this.pendingConfig.delete(nodeId);
  }

  private accept(node: { id: number; name: string }, msg: NodeToServer): void {
    switch (msg.type) {
      case 'config_applied': {
        const p = this.pendingConfig.get(node.id);
        if (p && p.version !== msg.version) return; // an older version; the latest is still awaited
        this.forgetPending(node.id);
        this.act(this.alarms.lower({ alarm: 'configuration_sync_failure', node: node.name, instance: node.name }));
        return;
      }
      case 'alarm': {
        const id = { alarm: msg.alarm, node: node.name, instance: msg.instance };
        this.act(msg.action === 'raise' ? this.alarms.raise({ ...id, details: msg.details }) : this.alarms.lower(id));
        return;
      }
      default:
        return;
    }
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearInterval(this.certificateTimer);
    this.clock.clearTimeout(this.startupTimer);
    if (this.certificateDebounce) clearTimeout(this.certificateDebounce);
    this.dom.bus.off('changed', this.onConfigChanged);
    for (const id of [...this.pendingConfig.keys()]) this.forgetPending(id);
  }
}
