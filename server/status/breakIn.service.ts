import { z } from 'zod';
import type { Domain } from '../domain.js';
import { actorOf } from '../domain.js';
import { recordChange } from '../audit/adminLog.service.js';
import { AppError } from '../errors/AppError.js';
import type { NodeRegistry } from '../platform/NodeRegistry.js';
import type { LiveStatus } from './LiveStatus.js';
import { parseBlockId, type PlatformBreakInBlock } from './BreakInBlocks.js';

export const liftBreakInBlockInput = z.object({ block_id: z.string().min(1).max(80) });

/** A block as the status API and the console show it. */
export interface BreakInBlockView extends PlatformBreakInBlock {
  nodes: string[];
  remainingSeconds: number;
}

export function breakInBlocks(status: LiveStatus, registry: NodeRegistry, now = Date.now()): BreakInBlockView[] {
  const names = registry.nodeNames();
  return status.breakIn.list().map((b) => ({
    ...b,
    nodes: b.nodeIds.map((id) => names.get(id) ?? String(id)),
    remainingSeconds: Math.max(0, Math.ceil((Date.parse(b.until) - now) / 1000)),
  }));
}

/**
 * An administrator lifts a block: every node where it is in force is told to let the service or
 * address in at once (they report their new lists back). Recorded in the administrator log.
 */
export async function liftBreakInBlock(dom: Domain, status: LiveStatus, registry: NodeRegistry, blockId: string): Promise<PlatformBreakInBlock> {
  const parsed = parseBlockId(blockId);
  const block = parsed ? status.breakIn.get(blockId) : undefined;
  if (!parsed || !block) throw new AppError('NOT_FOUND', 'No such break-in block (it may have ended).');
  registry.command(block.nodeIds, { type: 'lift_break_in_block', kind: parsed.kind, key: parsed.key });
  await recordChange(dom.db, actorOf(dom), {
    action: 'deleted',
    objectType: 'break_in_block',
    objectId: null,
    objectName: `${block.kind === 'service' ? 'Service' : 'Address'} ${block.label}`,
  });
  return block;
}
