import { asc, eq } from 'drizzle-orm';
import { conferencingNode, systemLocation } from '../../db/schema.js';
import { workerVmResource } from '../../shared/config/resources/platform.js';
import { changeObject } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import { enrollmentStates, type NodeEnrollmentState } from './nodeIdentity.service.js';

export interface ConferencingNode {
  id: number;
  name: string;
  hostname: string;
  address: string;
  client_api_url: string;
  system_location: { id: number; name: string };
  role: string;
  maintenance_mode: boolean;
  version: string;
  last_contacted: string | null;
  /** True while the node's WebSocket to this server is open. */
  live: boolean;
  /** Its credential: enrolled, revoked by an administrator, or pending (added, never enrolled). */
  enrollment: NodeEnrollmentState;
}

export async function listNodes(dom: Domain, isLive: (id: number) => boolean): Promise<ConferencingNode[]> {
  const rows = await dom.db
    .select({ node: conferencingNode, location: systemLocation })
    .from(conferencingNode)
    .innerJoin(systemLocation, eq(systemLocation.id, conferencingNode.systemLocationId))
    .orderBy(asc(conferencingNode.name));
  const states = await enrollmentStates(dom);
  return rows.map(({ node, location }) => ({
    id: node.id,
    name: node.name,
    hostname: node.hostname,
    address: node.address,
    client_api_url: node.clientApiUrl,
    system_location: { id: location.id, name: location.name },
    role: node.role,
    maintenance_mode: node.maintenanceMode,
    version: node.version,
    last_contacted: node.lastContacted?.toISOString() ?? null,
    live: isLive(node.id),
    enrollment: states.get(node.id) ?? 'pending',
  }));
}

export async function touchNode(dom: Domain, id: number): Promise<void> {
  await dom.db.update(conferencingNode).set({ lastContacted: new Date() }).where(eq(conferencingNode.id, id));
}

/** Moves a node to another system location: a change of its `worker_vm` object like any other (validated, logged, pushed). */
export async function setNodeLocation(dom: Domain, id: number, locationId: number): Promise<void> {
  await changeObject(dom, workerVmResource.name, id, { system_location: locationId });
}
