/**
 * Administrator permissions (guide: Users & Devices > Administrator Roles). Permissions are purely
 * positive and unioned across an administrator's roles. Every role needs "Is an administrator";
 * the web interface also needs "May use web interface", the API "May use API".
 */
export const PERMISSIONS = {
  is_administrator: 'Is an administrator',
  may_use_web: 'May use web interface',
  may_use_api: 'May use API',
  view_system: 'May view system configuration',
  modify_system: 'May modify system configuration',
  view_authentication: 'May view authentication configuration',
  modify_authentication: 'May modify authentication configuration',
  view_logs: 'May view logs',
  configure_logs: 'May configure logs',
  view_status: 'May view system status',
  generate_snapshot: 'May generate system snapshot',
  view_conference_status: 'May view conference status',
  modify_conference_status: 'May modify conference status',
  view_vmr: 'May view VMR configuration',
  modify_vmr: 'May modify VMR configuration',
  add_remove_vmr: 'May add/remove VMRs',
  view_gateway: 'May view gateway configuration',
  modify_gateway: 'May modify gateway configuration',
  add_remove_gateway: 'May add/remove gateways',
  add_remove_theme: 'May add/remove themes',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

/**
 * What a configuration object belongs to, for permission checks:
 * system = platform, call control, system, users & devices; vmr = services; gateway = call routing;
 * authentication = administrators and roles; theme = themes (viewed with VMR configuration).
 */
export type PermissionArea = 'system' | 'authentication' | 'vmr' | 'gateway' | 'theme' | 'logs' | 'status';
export type PermissionAction = 'view' | 'modify' | 'add_remove';

/** The built-in roles; Read-only sees everything and changes nothing. */
export const READ_ONLY_PERMISSIONS: Permission[] = [
  'is_administrator',
  'may_use_web',
  'may_use_api',
  'view_system',
  'view_authentication',
  'view_logs',
  'view_status',
  'view_conference_status',
  'view_vmr',
  'view_gateway',
];
export const READ_WRITE_PERMISSIONS: Permission[] = [...ALL_PERMISSIONS];

const REQUIRED: Record<PermissionArea, Record<PermissionAction, Permission[]>> = {
  system: { view: ['view_system'], modify: ['modify_system'], add_remove: ['modify_system'] },
  authentication: { view: ['view_authentication'], modify: ['modify_authentication'], add_remove: ['modify_authentication'] },
  vmr: { view: ['view_vmr'], modify: ['modify_vmr'], add_remove: ['modify_vmr', 'add_remove_vmr'] },
  gateway: { view: ['view_gateway'], modify: ['modify_gateway'], add_remove: ['modify_gateway', 'add_remove_gateway'] },
  theme: { view: ['view_vmr'], modify: ['add_remove_theme'], add_remove: ['add_remove_theme'] },
  logs: { view: ['view_logs'], modify: ['configure_logs'], add_remove: ['configure_logs'] },
  status: { view: ['view_conference_status'], modify: ['modify_conference_status'], add_remove: ['modify_conference_status'] },
};

/** Whether a permission set allows an action in an area. A modify permission implies view. */
export function allows(perms: ReadonlySet<string> | readonly string[], area: PermissionArea, action: PermissionAction): boolean {
  const set = perms instanceof Set ? perms : new Set(perms as readonly string[]);
  if (!set.has('is_administrator')) return false;
  if (action === 'view' && REQUIRED[area].modify.every((p) => set.has(p))) return true;
  return REQUIRED[area][action].every((p) => set.has(p));
}

export const ACCESS_DENIED = 'Access denied';
