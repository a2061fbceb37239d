import type { ResourceDef } from '../resource.js';

export const PLATFORM_RESOURCES: ResourceDef[] = [];
