import type { NODE_ALARMS, NodeToServer } from '../../shared/node-protocol/messages.js';

export type NodeAlarmKey = (typeof NODE_ALARMS)[number];

interface Link {
  readonly connected: boolean;
  send(msg: NodeToServer): void;
  on(event: 'connected', listener: () => void): unknown;
}

/**
 * The alarms the node raises itself (an event sink stopped at maximum backoff, a syslog server
 * inaccessible), reported to the management server, which keeps and shows them. What changes while
 * the server is unreachable is told when the link is back: every active alarm again (raising is
 * idempotent there) and the ones lowered meanwhile.
 */
export class NodeAlarms {
  private readonly active = new Map<string, { alarm: NodeAlarmKey; instance: string; details: string }>();
  private readonly loweredOffline = new Map<string, { alarm: NodeAlarmKey; instance: string }>();

  private link: Link | null = null;

  /** Reports to the management server over this link from now on (and again on every reconnection). */
  attach(link: Link): void {
    this.link = link;
    link.on('connected', () => this.resend());
    if (link.connected) this.resend();
  }

  raise(alarm: NodeAlarmKey, instance: string, details = ''): void {
    const key = `${alarm}\u0000${instance}`;
    if (this.active.get(key)?.details === details) return;
    this.active.set(key, { alarm, instance, details });
    this.loweredOffline.delete(key);
    this.link?.send({ type: 'alarm', action: 'raise', alarm, instance, details });
  }

  lower(alarm: NodeAlarmKey, instance: string): void {
    const key = `${alarm}\u0000${instance}`;
    if (!this.active.delete(key)) return;
    if (this.link?.connected) this.link.send({ type: 'alarm', action: 'lower', alarm, instance, details: '' });
    else this.loweredOffline.set(key, { alarm, instance });
  }

  /** Lowers every alarm of a kind whose instance is not in `keep` (sinks or servers no longer configured). */
  lowerAllBut(alarm: NodeAlarmKey, keep: ReadonlySet<string>): void {
    for (const a of [...this.active.values()]) if (a.alarm === alarm && !keep.has(a.instance)) this.lower(alarm, a.instance);
  }

  /** The active ones, for status and tests. */
  list(): { alarm: NodeAlarmKey; instance: string; details: string }[] {
    return [...this.active.values()];
  }

  private resend(): void {
    if (!this.link) return;
    for (const a of this.loweredOffline.values()) this.link.send({ type: 'alarm', action: 'lower', ...a, details: '' });
    this.loweredOffline.clear();
    for (const a of this.active.values()) this.link.send({ type: 'alarm', action: 'raise', ...a });
  }
}
