import type { ResourceDef } from '../resource.js';

export const USERS_DEVICES_RESOURCES: ResourceDef[] = [];
