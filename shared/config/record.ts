import type { StoredAlias } from '../alias/alias.schema.js';
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

/** A configuration object as the generic layer returns it: its fields, id and creation time (and a service's aliases and type). */
export type RecordOf<D extends { fields: FieldSpecs }> = ValuesOf<D['fields']> & { id: number; creation_time: string } & (D extends { hasAliases: true }
    ? { aliases: StoredAlias[]; service_type: string }
    : unknown);
