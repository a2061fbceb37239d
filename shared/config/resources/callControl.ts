import type { ResourceDef } from '../resource.js';

export const CALL_CONTROL_RESOURCES: ResourceDef[] = [];
