import { normaliseAlias } from '../../shared/alias/normalise.js';
import type { NodeConfigSnapshot, ServiceConfig } from '../../shared/node-protocol/messages.js';

/** Incoming alias → service, from the node's current configuration (guide §19.2: exact match after normalising). */
export class ServiceDirectory {
  private byAlias = new Map<string, ServiceConfig>();
  private byId = new Map<number, ServiceConfig>();

  load(snapshot: NodeConfigSnapshot): void {
    const byAlias = new Map<string, ServiceConfig>();
    const byId = new Map<number, ServiceConfig>();
    for (const s of snapshot.services) {
      byId.set(s.id, s);
      for (const a of s.aliases) byAlias.set(a, s);
    }
    this.byAlias = byAlias;
    this.byId = byId;
  }

  lookup(dialled: string): ServiceConfig | undefined {
    return this.byAlias.get(normaliseAlias(dialled));
  }

  byServiceId(id: number): ServiceConfig | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
