import { describe, expect, it } from 'vitest';
import { BreakInBlocks, parseBlockId } from './BreakInBlocks.js';

const at = (ms: number) => new Date(ms).toISOString();

describe('BreakInBlocks', () => {
  it('merges the same block from several nodes, hides ended ones and forgets a node that left', () => {
    let t = 1_000_000;
    const blocks = new BreakInBlocks(() => t);
    let changes = 0;
    blocks.on('changed', () => changes++);
    blocks.set(1, [
      { kind: 'address', key: '203.0.113.7', label: '203.0.113.7', since: at(t), until: at(t + 600_000) },
      { kind: 'service', key: '4', label: 'Room', since: at(t - 500_000), until: at(t + 100_000) },
    ]);
    blocks.set(2, [{ kind: 'address', key: '203.0.113.7', label: '203.0.113.7', since: at(t + 5_000), until: at(t + 605_000) }]);
    expect(blocks.list()).toEqual([
      { id: 'service:4', kind: 'service', key: '4', label: 'Room', since: at(t - 500_000), until: at(t + 100_000), nodeIds: [1] },
      { id: 'address:203.0.113.7', kind: 'address', key: '203.0.113.7', label: '203.0.113.7', since: at(t), until: at(t + 605_000), nodeIds: [1, 2] },
    ]);
    t += 100_000;
    expect(blocks.list().map((b) => b.id)).toEqual(['address:203.0.113.7']);
    blocks.dropNode(1);
    blocks.dropNode(9);
    expect(blocks.get('address:203.0.113.7')?.nodeIds).toEqual([2]);
    expect(changes).toBe(3);
  });

  it('parses block ids, IPv6 included, and refuses others', () => {
    expect(parseBlockId('address:2001:db8::1')).toEqual({ kind: 'address', key: '2001:db8::1' });
    expect(parseBlockId('service:12')).toEqual({ kind: 'service', key: '12' });
    expect(parseBlockId('alias:x')).toBeNull();
    expect(parseBlockId('address:')).toBeNull();
  });
});
