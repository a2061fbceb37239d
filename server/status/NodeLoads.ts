import type { NodeLoad } from '../../shared/node-protocol/mediaStatus.js';

/** Each node's latest `node_load` report, by node id; forgotten when the node is gone. */
export class NodeLoads {
  private readonly byNode = new Map<number, NodeLoad>();

  set(nodeId: number, load: NodeLoad): void {
    this.byNode.set(nodeId, load);
  }

  get(nodeId: number): NodeLoad | undefined {
    return this.byNode.get(nodeId);
  }

  drop(nodeId: number): void {
    this.byNode.delete(nodeId);
  }
}
