import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { regexTesterInputSchema, type RegexTesterInput } from '../../../shared/routing/regexTester.schema.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { useTRPC } from '../trpc.js';

const STATUS_TEXT = { successful: 'Successful match', partial: 'Partial match', failed: 'Failed match' } as const;

/** Utilities > Regular Expression Tester (guide: Regular expression reference). */
export function RegexTesterPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { register, handleSubmit, formState, setError } = useForm<RegexTesterInput>({
    resolver: zodResolver(regexTesterInputSchema),
    defaultValues: { input: '', regex: '', replace: '' },
  });
  // A pattern or replace string Python would refuse comes back beside its field.
  const onError = useServerErrors(setError);
  // A query on the server (it changes nothing), run once per Test press.
  const test = useMutation({
    mutationFn: (v: RegexTesterInput) => qc.fetchQuery({ ...trpc.regexTester.test.queryOptions(v), retry: false, staleTime: 0 }),
    onError,
  });
  const e = formState.errors;
  const out = test.data;

  return (
    <section>
      <h1>Regular Expression Tester</h1>
      <form onSubmit={handleSubmit((v) => test.mutate(v))} className="card form" noValidate>
        <Field id="rx-input" label="Input" error={e.input?.message} hint="The test input to match against the regular expression, such as a dialed alias.">
          <input id="rx-input" maxLength={250} {...register('input')} />
        </Field>
        <Field id="rx-regex" label="Regex match" error={e.regex?.message} hint="Case-insensitive; the Input is checked against it.">
          <input id="rx-regex" maxLength={250} {...register('regex')} />
        </Field>
        <Field
          id="rx-replace"
          label="Regex replace string"
          error={e.replace?.message}
          hint="Optional: transforms the Input if a match was found. Leave blank to leave the original input unchanged."
        >
          <input id="rx-replace" maxLength={250} {...register('replace')} />
        </Field>
        <FormFooter rootError={e.root?.message} canSave pending={test.isPending} saveLabel="Test Regular Expression" />
      </form>

      {out && (
        <div className="card" aria-live="polite">
          <h2>Result</h2>
          <p data-testid="regex-result">{out.result ?? <span className="meta">No result: the Input was not fully matched.</span>}</p>
          <h2>Debug information</h2>
          <p data-testid="regex-status">{STATUS_TEXT[out.status]}</p>
          {out.groups.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th>Group</th>
                  <th>Name</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {out.groups.map((g) => (
                  <tr key={g.index}>
                    <td>{g.index}</td>
                    <td>{g.name ?? ''}</td>
                    <td>{g.value ?? <span className="meta">(no match)</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
