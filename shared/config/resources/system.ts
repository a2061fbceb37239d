import type { ResourceDef } from '../resource.js';

export const SYSTEM_RESOURCES: ResourceDef[] = [];
