import { EventEmitter } from 'node:events';
import type { BreakInBlock } from '../../shared/node-protocol/messages.js';

/** One block as the platform sees it: the same service or address blocked on several nodes is one row. */
export interface PlatformBreakInBlock {
  /** `service:<id>` or `address:<ip>`: what an administrator lifts. */
  id: string;
  kind: BreakInBlock['kind'];
  key: string;
  label: string;
  since: string;
  until: string;
  /** Node ids where it is in force. */
  nodeIds: number[];
}

export const blockId = (kind: BreakInBlock['kind'], key: string) => `${kind}:${key}`;

/** `service:12` / `address:203.0.113.7` (IPv6 addresses keep their colons). */
export function parseBlockId(id: string): { kind: BreakInBlock['kind']; key: string } | null {
  const m = /^(service|address):(.{1,64})$/.exec(id);
  return m ? { kind: m[1] as BreakInBlock['kind'], key: m[2]! } : null;
}

/**
 * The break-in blocks in force on every conferencing node, as each last reported them (in memory:
 * a node resends its list after each reconnection). Blocks past their end are not listed.
 */
export class BreakInBlocks extends EventEmitter<{ changed: [] }> {
  private readonly byNode = new Map<number, BreakInBlock[]>();

  constructor(private readonly now: () => number = Date.now) {
    super();
  }

  set(nodeId: number, blocks: BreakInBlock[]): void {
    this.byNode.set(nodeId, blocks);
    this.emit('changed');
  }

  dropNode(nodeId: number): void {
    if (this.byNode.delete(nodeId)) this.emit('changed');
  }

  list(): PlatformBreakInBlock[] {
    const now = this.now();
    const merged = new Map<string, PlatformBreakInBlock>();
    for (const [nodeId, blocks] of this.byNode) {
      for (const b of blocks) {
        if (Date.parse(b.until) <= now) continue;
        const id = blockId(b.kind, b.key);
        const m = merged.get(id);
        if (!m) merged.set(id, { id, kind: b.kind, key: b.key, label: b.label, since: b.since, until: b.until, nodeIds: [nodeId] });
        else {
          m.nodeIds.push(nodeId);
          if (b.since < m.since) m.since = b.since;
          if (b.until > m.until) m.until = b.until;
        }
      }
    }
    return [...merged.values()].sort((a, b) => a.until.localeCompare(b.until) || a.id.localeCompare(b.id));
  }

  get(id: string): PlatformBreakInBlock | undefined {
    return this.list().find((b) => b.id === id);
  }
}
