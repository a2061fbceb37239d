import { hostname } from 'node:os';
import type { DestinationStream, Logger } from 'pino';
import { SyslogForwarder } from '../../node-agent/logging/SyslogForwarder.js';
import { syslogServerResource } from '../../shared/config/resources/system.js';
import { listRecords } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import type { AlarmManager } from './AlarmManager.js';

/**
 * The management node's own lines to the remote syslog servers (guide: the Management Node and each
 * Conferencing Node send their own logs directly): here its `administrator.alarm` lines, to every
 * configured server with "Support log" selected (the support log includes the administrator log).
 * A TCP/TLS server that cannot be reached raises "Syslog server inaccessible" for the management node.
 */
export class AlarmSyslog {
  private readonly forwarder: SyslogForwarder;
  private refreshing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly dom: Domain,
    private readonly log: Logger,
    name = hostname(),
  ) {
    this.forwarder = new SyslogForwarder({ hostname: name, appName: 'openmeet-management', log });
    dom.bus.on('changed', this.onChanged);
  }

  /** Where AlarmManager writes its syslog lines. */
  get destination(): DestinationStream {
    return this.forwarder.destination;
  }

  /** Reports servers that cannot be reached (and reached again) to the alarms; then follows the configuration. */
  start(alarms: AlarmManager): Promise<void> {
    this.forwarder.onReachability = (server, reachable, detail) => {
      const id = { alarm: 'syslog_inaccessible' as const, instance: server };
      (reachable ? alarms.lower(id) : alarms.raise({ ...id, details: detail })).catch((err: unknown) => {
        if (!this.closed) this.log.error({ err }, 'syslog alarm could not be recorded');
      });
    };
    return this.refresh();
  }

  /** A read is waiting to start: changes meanwhile are covered by it (an import's burst makes one read). */
  private queued = false;
  private readonly onChanged = () => {
    if (!this.queued) void this.refresh();
  };

  /** Follows System > Syslog servers. */
  refresh(): Promise<void> {
    this.queued = true;
    const run = this.refreshing.then(async () => {
      this.queued = false;
      if (this.closed) return;
      const servers = (await listRecords(this.dom, syslogServerResource, { limit: 10_000, orderBy: 'id' })).items;
      if (this.closed) return;
      this.forwarder.apply(
        servers.map((p) => ({ address: p.address, port: p.port, transport: p.transport, supportLog: p.support_log, auditLog: p.audit_log, webLog: p.web_log })),
      );
    });
    this.refreshing = run.catch((err: unknown) => {
      if (!this.closed) this.log.error({ err }, 'syslog servers could not be read');
    });
    return this.refreshing;
  }

  close(): void {
    this.closed = true;
    this.dom.bus.off('changed', this.onChanged);
    this.forwarder.close();
  }
}
