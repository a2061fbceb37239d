import { randomUUID } from 'node:crypto';
import type { CommandResultMessage, NodeCommand } from '../../shared/node-protocol/commands.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import { CommandError } from './CommandError.js';

/** How long a node has to answer a command; default 5 s. */
export const COMMAND_TIMEOUT_MS = 5_000;

interface Pending {
  nodeId: number;
  resolve: (r: CommandResultMessage) => void;
  timer: NodeJS.Timeout;
}

/**
 * Sends administrator commands to nodes and waits for each node's `command_result` (matched by
 * request id, and only from the node it was sent to), failing with 504 when none comes in time.
 */
export class CommandDispatcher {
  private static readonly byRegistry = new WeakMap<NodeRegistry, CommandDispatcher>();
  private readonly pending = new Map<string, Pending>();

  /** The registry's one dispatcher (REST routes and console procedures share it). */
  static for(registry: NodeRegistry): CommandDispatcher {
    let d = CommandDispatcher.byRegistry.get(registry);
    if (!d) CommandDispatcher.byRegistry.set(registry, (d = new CommandDispatcher(registry)));
    return d;
  }

  constructor(
    private readonly registry: NodeRegistry,
    private readonly timeoutMs = COMMAND_TIMEOUT_MS,
  ) {
    registry.onNodeMessage((node, msg) => {
      if (msg.type !== 'command_result') return;
      const p = this.pending.get(msg.requestId);
      if (!p || p.nodeId !== node.id) return;
      this.pending.delete(msg.requestId);
      clearTimeout(p.timer);
      p.resolve(msg);
    });
  }

  /** Runs a command on one node; resolves when it answered that it was carried out, else throws a CommandError. */
  async send(nodeId: number, command: NodeCommand): Promise<CommandResultMessage> {
    const requestId = randomUUID();
    const answer = new Promise<CommandResultMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new CommandError(504, 'The conferencing node did not answer in time.'));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(requestId, { nodeId, resolve, timer });
    });
    if (this.registry.command([nodeId], { type: 'command', requestId, command }) === 0) {
      const p = this.pending.get(requestId);
      if (p) clearTimeout(p.timer);
      this.pending.delete(requestId);
      throw new CommandError(503, 'The conferencing node is not connected.');
    }
    const result = await answer;
    if (result.ok) return result;
    throw new CommandError(result.failure === 'not_found' ? 404 : 400, result.reason ?? 'The command was refused.');
  }

  /** The connected nodes (a dial from a conference not running goes to one of them). */
  liveNodes(): { id: number; name: string; location: string }[] {
    return this.registry.liveNodes();
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
