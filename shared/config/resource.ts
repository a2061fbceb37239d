import type { PermissionArea } from '../admin/permissions.js';
import { z } from 'zod';
import { normaliseAlias } from '../alias/normalise.js';
import { ALIAS_MESSAGES, aliasInputSchema } from '../alias/alias.schema.js';
import { buildSchemas, type FieldSpecs, type Refine } from './field.js';

/** The console menu a resource sits under (the guide's menus). */
export type Menu = 'Services' | 'Call Control' | 'Platform' | 'System' | 'Users & Devices' | 'Utilities';

/**
 * One kind of configuration object, declared once: its management API name, its console page,
 * its fields and rules. The generic domain layer, REST API, tRPC router and console pages are all
 * driven by these definitions.
 */
export interface ResourceDef {
  /** Management API resource name, e.g. `sip_proxy`; for services, a pseudo-name per service type. */
  name: string;
  /** Singular and plural in the guide's words: "SIP proxy", "SIP proxies". */
  label: string;
  plural: string;
  menu: Menu;
  /** Console path segment, e.g. `sip-proxies`. */
  route: string;
  permission: PermissionArea;
  fields: FieldSpecs;
  /** Columns of the console list (field keys). */
  listColumns: string[];
  /** The field naming an object (administrator log, lists, uniqueness); default `name`. */
  nameField?: string;
  /**
   * Uniqueness rules: each lists fields whose combined value must be unique within the resource
   * (compared case-insensitively; blank values are not compared), with the message shown beside
   * `path` (default: the first field). The first rule is also enforced by a database index.
   */
  unique?: { fields: string[]; message: string; path?: string }[];
  /** Cross-field rules, run on the whole object after field rules. */
  refine?: Refine;
  /** Fields the list's search box matches. Default: the name field and `description` if present. */
  searchFields?: string[];
  /** Default list order (field key, `-` for descending). Default: the name field. */
  orderBy?: string;
  /** One object only (e.g. global settings), at id 1. */
  singleton?: boolean;
  /** Where objects are stored: the generic JSON store unless a typed table holds them. */
  store?: 'json' | 'conference' | 'system_location' | 'worker_vm';
  /** For services: the `service_type` value in the `conference` resource. */
  serviceType?: string;
  /** The object has service aliases (services only). */
  hasAliases?: boolean;
  /** Objects are created elsewhere (e.g. nodes enroll themselves): no Add button. */
  noCreate?: boolean;
  /** Intro text shown on the list page. */
  intro?: string;
}

export function defineResource<D extends ResourceDef>(def: D): D {
  return def;
}

const schemaCache = new WeakMap<ResourceDef, ReturnType<typeof buildSchemas>>();
/** The create/patch zod schemas of a resource (cached). */
export function schemasOf(def: ResourceDef) {
  let s = schemaCache.get(def);
  if (!s) {
    s = def.hasAliases
      ? buildSchemas(def.fields, withAliasRule(def.refine), { aliases: { schema: z.array(aliasInputSchema), default: [] } })
      : buildSchemas(def.fields, def.refine);
    schemaCache.set(def, s);
  }
  return s;
}

export const nameFieldOf = (def: Pick<ResourceDef, 'nameField'>) => def.nameField ?? 'name';

/** Services: an alias may appear only once per service (uniqueness across services is the domain's). */
function withAliasRule(refine?: Refine): Refine {
  return (v, add) => {
    refine?.(v, add);
    const seen = new Set<string>();
    (Array.isArray(v.aliases) ? (v.aliases as { alias?: unknown }[]) : []).forEach((a, i) => {
      if (typeof a?.alias !== 'string' || a.alias.trim() === '') return;
      const key = normaliseAlias(a.alias);
      if (seen.has(key)) add(`aliases.${i}.alias`, ALIAS_MESSAGES.duplicateInService);
      seen.add(key);
    });
  };
}
