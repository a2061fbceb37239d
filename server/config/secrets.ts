import { isWriteOnly } from '../../shared/config/field.js';
import type { ResourceDef } from '../../shared/config/resource.js';

/** The write-only fields of a resource (passwords, shared secrets, the SNMP community). */
export function writeOnlyFields(def: ResourceDef): string[] {
  return Object.entries(def.fields).flatMap(([k, f]) => (isWriteOnly(f) ? [k] : []));
}

/** A record as it may leave the server: write-only values come back blank, as the management API's do. */
export function withoutSecrets<T extends Record<string, unknown>>(def: ResourceDef, record: T): T {
  const keys = writeOnlyFields(def);
  if (!keys.length) return record;
  const out: Record<string, unknown> = { ...record };
  for (const k of keys) if (k in out) out[k] = '';
  return out as T;
}

/**
 * A change as it may be applied: a blank write-only value means "unchanged" (the form and a GET
 * show them blank, so saving what was read must not wipe the stored secret).
 */
export function keepingSecrets(def: ResourceDef, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...(patch as Record<string, unknown>) };
  for (const k of writeOnlyFields(def)) if (out[k] === '' || out[k] === null) delete out[k];
  return out;
}
