import { systemLocationResource } from '../../shared/config/resources/platform.js';
import { insertObject, listRecords } from '../config/config.service.js';
import type { Domain } from '../domain.js';

/** The location a self-enrolling node lands in when none is named: the first one, created (and logged) if needed. */
export async function defaultLocationId(dom: Domain): Promise<number> {
  const [first] = (await listRecords(dom, systemLocationResource, { limit: 1, orderBy: 'id' })).items;
  return first ? first.id : insertObject(dom, systemLocationResource.name, { name: 'Default location' });
}
