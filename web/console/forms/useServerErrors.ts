import { useCallback } from 'react';
import type { FieldPath, FieldValues, UseFormSetError } from 'react-hook-form';
import { errorMessage, serverFieldErrors } from '../trpc.js';

/**
 * Puts a failed call's messages where the administrator looks: each field's messages beside that
 * field (react-hook-form's error for it), the rest — `__all__`, or an error with no fields — as the
 * form's root error. `fieldOf` maps a server field name to the form's (e.g. `nodes.0` → `nodes`);
 * by default names are the same, which is the rule: forms use the API's field names.
 */
export function useServerErrors<T extends FieldValues>(setError: UseFormSetError<T>, fieldOf: (serverField: string) => string = (f) => f) {
  return useCallback(
    (err: unknown): void => {
      const fields = serverFieldErrors(err);
      const names = Object.keys(fields);
      if (names.length === 0) {
        setError('root', { message: errorMessage(err) });
        return;
      }
      for (const name of names) {
        const target = name === '__all__' ? 'root' : fieldOf(name);
        setError(target as FieldPath<T> | 'root', { message: fields[name]!.join(' ') });
      }
    },
    [setError, fieldOf],
  );
}
