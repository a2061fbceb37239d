import { EventEmitter } from 'node:events';
import type { RegistrationReport } from '../../shared/node-protocol/messages.js';

/** One registration as status/v1 `registration_alias` shows it ([sch] fields; unknown ones omitted). */
export interface RegistrationAlias {
  id: number;
  alias: string;
  registration_id: string;
  username?: string;
  protocol: 'SIP';
  node: string;
  remote_address: string;
  is_natted: boolean;
  start_time: string;
  vendor?: string;
}

/**
 * The registrations every conferencing node holds, as each last reported them (in memory: a node
 * resends its list after each reconnection). The API's integer ids stay with a registration id.
 */
export class Registrations extends EventEmitter<{ changed: [] }> {
  private readonly byNode = new Map<number, RegistrationReport[]>();
  private readonly ids = new Map<string, number>();
  private nextId = 1;

  set(nodeId: number, registrations: RegistrationReport[]): void {
    this.byNode.set(nodeId, registrations);
    const live = new Set(this.all().map((r) => r.registrationId));
    for (const key of this.ids.keys()) if (!live.has(key)) this.ids.delete(key);
    this.emit('changed');
  }

  dropNode(nodeId: number): void {
    if (this.byNode.delete(nodeId)) this.emit('changed');
  }

  private all(): RegistrationReport[] {
    return [...this.byNode.values()].flat();
  }

  /** status/v1 objects; `nodeName` names a node by id (the registry's live nodes). */
  list(nodeName: (id: number) => string): RegistrationAlias[] {
    const out: RegistrationAlias[] = [];
    for (const [nodeId, regs] of this.byNode)
      for (const r of regs) {
        let id = this.ids.get(r.registrationId);
        if (id === undefined) this.ids.set(r.registrationId, (id = this.nextId++));
        out.push({
          id,
          alias: r.alias,
          registration_id: r.registrationId,
          ...(r.username ? { username: r.username } : {}),
          protocol: r.protocol,
          node: nodeName(nodeId),
          remote_address: r.remoteAddress,
          is_natted: r.isNatted,
          start_time: r.startTime,
          ...(r.vendor ? { vendor: r.vendor } : {}),
        });
      }
    return out.sort((a, b) => a.id - b.id);
  }

  /** The console's rows: status/v1's fields plus the Contact, transport and expiry the nodes report. */
  rows(nodeName: (id: number) => string): RegistrationRow[] {
    const extra = new Map(this.all().map((r) => [r.registrationId, r]));
    return this.list(nodeName).map((r) => {
      const e = extra.get(r.registration_id);
      return { ...r, contact: e?.contact ?? null, transport: e?.transport ?? null, expires_at: e?.expiresAt ?? null };
    });
  }
}

/** A registration as the console lists it. */
export interface RegistrationRow extends RegistrationAlias {
  contact: string | null;
  transport: 'udp' | 'tcp' | 'tls' | null;
  expires_at: string | null;
}
