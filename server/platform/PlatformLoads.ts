import type { ServerToNode } from '../../shared/node-protocol/messages.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import type { NodeRegistry } from './NodeRegistry.js';

type PlatformLoadMessage = Extract<ServerToNode, { type: 'platform_load' }>;

/**
 * Relays every live node's media load, and the conferences each holds media of, to the nodes linked
 * to this server, so that each decides where a call's media goes (media allocation) from a recent
 * view of the others. Sent when a load or the conferences change, at most every `minIntervalMs`.
 */
export class PlatformLoads {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;

  constructor(
    private readonly status: LiveStatus,
    private readonly registry: Pick<NodeRegistry, 'liveNodes' | 'isConnectedHere' | 'commandHere'>,
    private readonly minIntervalMs = 250,
  ) {
    status.on('load', this.schedule);
    status.on('changed', this.schedule);
  }

  /** What the nodes are told now. */
  message(): PlatformLoadMessage {
    const live = this.registry.liveNodes();
    const conferences = new Map<string, string[]>();
    /** Per node name, per conference, the participants it signals (callers at PIN entry are not in yet). */
    const participants = new Map<string, Map<string, number>>();
    for (const c of this.status.conferences()) {
      for (const n of c.nodes) conferences.set(n, [...(conferences.get(n) ?? []), c.name]);
      for (const p of c.participants) {
        if (p.role === 'unknown' || p.stale) continue;
        const counts = participants.get(p.node) ?? new Map<string, number>();
        participants.set(p.node, counts.set(c.name, (counts.get(c.name) ?? 0) + 1));
      }
    }
    const nodes: PlatformLoadMessage['nodes'] = [];
    for (const n of live) {
      const load = this.status.loads.get(n.id);
      if (!load) continue;
      nodes.push({
        id: n.id,
        mediaTokensUsed: load.mediaTokensUsed,
        maxMediaTokens: load.capacity.maxMediaTokens,
        conferences: conferences.get(n.name) ?? [],
        participants: [...(participants.get(n.name) ?? [])].map(([conference, count]) => ({ conference, count })),
      });
    }
    return { type: 'platform_load', nodes };
  }

  private readonly schedule = () => {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.last = Date.now();
        const here = this.registry.liveNodes().filter((n) => this.registry.isConnectedHere(n.id));
        if (here.length > 0)
          this.registry.commandHere(
            here.map((n) => n.id),
            this.message(),
          );
      },
      Math.max(0, this.last + this.minIntervalMs - Date.now()),
    );
    this.timer.unref();
  };

  stop(): void {
    this.status.off('load', this.schedule);
    this.status.off('changed', this.schedule);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
