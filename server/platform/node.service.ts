import { asc, eq } from 'drizzle-orm';
import { conferencingNode, systemLocation } from '../../db/schema.js';
import { AppError } from '../errors/AppError.js';
import { actorOf, type Domain } from '../domain.js';
import { recordChange } from '../audit/adminLog.service.js';
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

/**
 * Moves a node to another system location, checking the location only: not through the generic
 * worker_vm update, because an enrolled node's hostname and address are what the node reported and
 * may break the definition's uniqueness rules (two nodes on one machine), which must not stop a move.
 */
export async function setNodeLocation(dom: Domain, id: number, locationId: number): Promise<void> {
  const [loc] = await dom.db.select().from(systemLocation).where(eq(systemLocation.id, locationId));
  if (!loc) throw AppError.validation({ system_location: ['Select a valid system location.'] });
  const [before] = await dom.db.select().from(conferencingNode).where(eq(conferencingNode.id, id));
  if (!before) throw AppError.notFound('Conferencing node');
  await dom.db.transaction(async (tx) => {
    await tx.update(conferencingNode).set({ systemLocationId: locationId }).where(eq(conferencingNode.id, id));
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: 'Conferencing node',
      objectId: id,
      objectName: before.name,
      before: { system_location_id: before.systemLocationId },
      after: { system_location_id: locationId },
    });
  });
  dom.bus.notify('worker_vm');
}
