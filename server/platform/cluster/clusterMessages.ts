import { z } from 'zod';
import { nodeToServerSchema, serverToNodeSchema } from '../../../shared/node-protocol/messages.js';

const liveNodeSchema = z.object({ id: z.number().int(), name: z.string().max(64), location: z.string().max(200) });

/** What the management servers on one database tell each other (ClusterChannel); checked on arrival like every wire contract. */
export const clusterMessageSchema = z.discriminatedUnion('kind', [
  /** A server started or got its channel back: the others answer with their heartbeat and their nodes' state. */
  z.object({ kind: z.literal('hello') }),
  /**
   * Every few seconds: the nodes connected to the sender (live) and those gone silent it still lists
   * as stale; `url`: where nodes reach the sender (node bundles list every server's).
   */
  z.object({
    kind: z.literal('heartbeat'),
    nodes: z.array(liveNodeSchema).max(10_000),
    stale: z.array(z.number().int()).max(10_000),
    url: z.string().url().max(500).optional(),
  }),
  /** The sender is stopping: its nodes will come back through another server (or not at all). */
  z.object({ kind: z.literal('goodbye') }),
  /** A configuration change made on the sender (ConfigBus). */
  z.object({ kind: z.literal('config_changed'), what: z.string().max(200) }),
  z.object({ kind: z.literal('accounts_changed') }),
  /** Alarms raised, lowered or acknowledged on the sender (the rows are in the database; this wakes the console's badge). */
  z.object({ kind: z.literal('alarms_changed') }),
  /** What a node connected to the sender reported, for everyone's live status. */
  z.object({
    kind: z.literal('node_message'),
    node: liveNodeSchema,
    msg: nodeToServerSchema,
    /** Replayed for a server that joined (not the node speaking now): never a sign that the node moved. */
    replay: z.boolean().optional(),
  }),
  /** A node's link to the sender ended (silent: it may still be running, its conferences shown stale). */
  z.object({ kind: z.literal('node_down'), nodeId: z.number().int(), silent: z.boolean() }),
  /** For the server holding these nodes' links: send them this (an administrator's command, a revocation). */
  z.object({ kind: z.literal('to_nodes'), nodeIds: z.array(z.number().int()).max(10_000), msg: serverToNodeSchema }),
]);
export type ClusterMessage = z.infer<typeof clusterMessageSchema>;
