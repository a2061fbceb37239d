import { skipToken, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

interface Draft {
  input: string;
  regex: string;
  replace: string;
}

const STATUS_TEXT = { successful: 'Successful match', partial: 'Partial match', failed: 'Failed match' } as const;

/** Utilities > Regular Expression Tester (guide: Regular expression reference). */
export function RegexTesterPage() {
  const trpc = useTRPC();
  const [draft, setDraft] = useState<Draft>({ input: '', regex: '', replace: '' });
  const [submitted, setSubmitted] = useState<Draft | null>(null);
  const test = useQuery({ ...trpc.regexTester.test.queryOptions(submitted ?? skipToken), retry: false, staleTime: Infinity });
  const errors = test.error ? serverFieldErrors(test.error) : {};
  const formError = test.error && Object.keys(errors).length === 0 ? errorMessage(test.error) : '';
  const out = test.data;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted({ ...draft });
  };

  return (
    <section>
      <h1>Regular Expression Tester</h1>
      <form onSubmit={submit} className="card form" noValidate>
        <Field id="rx-input" label="Input" error={errors.input?.join(' ')} hint="The test input to match against the regular expression, such as a dialed alias.">
          <input id="rx-input" maxLength={250} value={draft.input} onChange={(e) => setDraft({ ...draft, input: e.target.value })} />
        </Field>
        <Field id="rx-regex" label="Regex match" error={errors.regex?.join(' ')} hint="Case-insensitive; the Input is checked against it.">
          <input id="rx-regex" maxLength={250} value={draft.regex} onChange={(e) => setDraft({ ...draft, regex: e.target.value })} />
        </Field>
        <Field
          id="rx-replace"
          label="Regex replace string"
          error={errors.replace?.join(' ')}
          hint="Optional: transforms the Input if a match was found. Leave blank to leave the original input unchanged."
        >
          <input id="rx-replace" maxLength={250} value={draft.replace} onChange={(e) => setDraft({ ...draft, replace: e.target.value })} />
        </Field>
        {formError && (
          <p role="alert" className="form-error">
            {formError}
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={test.isFetching}>
            Test Regular Expression
          </button>
        </div>
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
