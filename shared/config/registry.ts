import '../routing/pythonRegex.js'; // registers the guide's regex syntax for `format: 'regex'` fields
import type { ResourceDef } from './resource.js';
import { CALL_CONTROL_RESOURCES } from './resources/callControl.js';
import { PLATFORM_RESOURCES } from './resources/platform.js';
import { SERVICE_RESOURCES } from './resources/services.js';
import { SYSTEM_RESOURCES } from './resources/system.js';
import { USERS_DEVICES_RESOURCES } from './resources/usersDevices.js';

/** Every configuration object kind driven by a definition, in console menu order. */
export const RESOURCES: ResourceDef[] = [
  ...SERVICE_RESOURCES,
  ...CALL_CONTROL_RESOURCES,
  ...USERS_DEVICES_RESOURCES,
  ...PLATFORM_RESOURCES,
  ...SYSTEM_RESOURCES,
];

const byName = new Map(RESOURCES.map((d) => [d.name, d]));
const byRoute = new Map(RESOURCES.map((d) => [d.route, d]));

export function findResource(name: string): ResourceDef | undefined {
  return byName.get(name);
}
export function findResourceByRoute(route: string): ResourceDef | undefined {
  return byRoute.get(route);
}
export const RESOURCE_NAMES = RESOURCES.map((d) => d.name);
