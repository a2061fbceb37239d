import type { AliasInput, StoredAlias } from '../alias/alias.schema.js';
import type { FieldSpec, FieldSpecs } from './field.js';

/**
 * The TypeScript type of a configuration object, inferred from its definition, so consumers of the
 * generic layer read typed fields instead of `Record<string, unknown>` and hand-written mirrors.
 */

type ChoiceOf<F> = F extends { choices: readonly (readonly [infer V, string])[] } ? V : string;

/** The stored value of one field, as the definition's zod schema produces it. */
export type ValueOf<F extends FieldSpec> = F extends { type: 'text' }
  ? string
  : F extends { type: 'int'; required: true }
    ? number
    : F extends { type: 'int'; default: number }
      ? number
      : F extends { type: 'int' }
        ? number | null
        : F extends { type: 'bool' }
          ? boolean
          : F extends { type: 'choice'; nullable: true }
            ? ChoiceOf<F> | null
            : F extends { type: 'choice' }
              ? ChoiceOf<F>
              : F extends { type: 'ref'; required: true }
                ? number
                : F extends { type: 'ref' }
                  ? number | null
                  : F extends { type: 'refList' }
                    ? number[]
                    : F extends { type: 'list' }
                      ? string[]
                      : never;

export type ValuesOf<S extends FieldSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/**
 * An object of a definition known only at run time (the REST API, the console's router, bulk
 * import walk every definition): field values by API name, and a service's type and aliases.
 */
export interface ConfigRecord {
  id: number;
  creation_time: string;
  service_type?: string;
  aliases?: StoredAlias[];
  [field: string]: unknown;
}

/** What a store holds of an object of a definition known only at run time. */
export interface StoredValues {
  service_type?: string;
  aliases?: StoredAlias[];
  [field: string]: unknown;
}

/** What a store is given to write for a definition known only at run time. */
export interface ValuesIn {
  aliases?: AliasInput[];
  [field: string]: unknown;
}

/** `Known` for a particular definition (its field keys are literal), `Any` for `ResourceDef` itself. */
type ByDefinition<D extends { fields: FieldSpecs }, Known, Any> = string extends keyof D['fields'] ? Any : Known;

/** A service's parts besides its fields. */
type ServiceParts<D, A, T> = D extends { hasAliases: true } ? { aliases: A[]; service_type: T } : unknown;

/** A configuration object as the generic layer returns it: its fields, id and creation time (and a service's aliases and type). */
export type RecordOf<D extends { fields: FieldSpecs }> = ByDefinition<
  D,
  ValuesOf<D['fields']> & { id: number; creation_time: string } & ServiceParts<D, StoredAlias, string>,
  ConfigRecord
>;

/**
 * What a store holds of an object: the field values it was last written with (a field added to the
 * definition since is missing; the domain reads it as its default), and a service's aliases.
 */
export type StoredValuesOf<D extends { fields: FieldSpecs }> = ByDefinition<
  D,
  Partial<ValuesOf<D['fields']> & ServiceParts<D, StoredAlias, string>>,
  StoredValues
>;

/** What a store is given to write: values the definition's schema accepted; a service's aliases (left out of a change: kept). */
export type ValuesInOf<D extends { fields: FieldSpecs }> = ByDefinition<D, ValuesOf<D['fields']> & Partial<ServiceParts<D, AliasInput, never>>, ValuesIn>;

/**
 * What server code gives to create or change an object: any of its fields (the definition's schema
 * checks them and fills the defaults) and a service's aliases; for a definition known only at run
 * time, whatever came over the wire (the schema checks it all).
 */
export type InputOf<D extends { fields: FieldSpecs }> = ByDefinition<
  D,
  Partial<ValuesOf<D['fields']>> & (D extends { hasAliases: true } ? { aliases?: { alias: string; description?: string }[] } : unknown),
  unknown
>;
