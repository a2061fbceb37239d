import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { SystemLocation } from '../../../shared/conference/location.schema.js';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

interface Draft {
  id: number | null;
  name: string;
  description: string;
  mtu: string;
}
const EMPTY: Draft = { id: null, name: '', description: '', mtu: '1500' };

/** System locations: list, add, edit, delete (a location still used by a node cannot be deleted). */
export function LocationsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.location.list.queryOptions());
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState('');
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.location.pathKey() });
  const onError = (err: unknown) => {
    const fields = serverFieldErrors(err);
    setErrors(fields);
    setFormError(Object.keys(fields).length ? '' : errorMessage(err));
  };
  const onSuccess = async () => {
    setDraft(EMPTY);
    setErrors({});
    setFormError('');
    await refresh();
  };
  const create = useMutation(trpc.location.create.mutationOptions({ onSuccess, onError }));
  const update = useMutation(trpc.location.update.mutationOptions({ onSuccess, onError }));
  const remove = useMutation(trpc.location.delete.mutationOptions({ onSuccess: refresh }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const mtu = draft.mtu.trim() === '' ? Number.NaN : Number(draft.mtu);
    if (!Number.isInteger(mtu)) return setErrors({ mtu: ['Enter a whole number.'] });
    const body = { name: draft.name, description: draft.description, mtu };
    if (draft.id === null) create.mutate(body);
    else update.mutate({ id: draft.id, patch: body });
  };
  const edit = (l: SystemLocation) => {
    setDraft({ id: l.id, name: l.name, description: l.description, mtu: String(l.mtu) });
    setErrors({});
  };

  return (
    <section>
      <h1>System locations</h1>
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>MTU</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.map((l) => (
            <tr key={l.id}>
              <td>
                <button type="button" className="link" onClick={() => edit(l)}>
                  {l.name}
                </button>
              </td>
              <td>{l.description}</td>
              <td>{l.mtu}</td>
              <td>
                <button type="button" className="danger" onClick={() => window.confirm(`Delete "${l.name}"?`) && remove.mutate({ id: l.id })}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={submit} className="card form" noValidate>
        <h2>{draft.id === null ? 'Add system location' : `Edit ${draft.name}`}</h2>
        <Field id="loc-name" label="Name" error={errors.name?.join(' ')}>
          <input id="loc-name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        </Field>
        <Field id="loc-description" label="Description" error={errors.description?.join(' ')}>
          <input id="loc-description" value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
        </Field>
        <Field id="loc-mtu" label="MTU" error={errors.mtu?.join(' ')} hint="512–1500">
          <input id="loc-mtu" type="number" value={draft.mtu} onChange={(e) => setDraft({ ...draft, mtu: e.target.value })} />
        </Field>
        {formError && <p role="alert" className="form-error">{formError}</p>}
        <div className="actions">
          <button type="submit">Save</button>
          {draft.id !== null && (
            <button type="button" className="secondary" onClick={() => setDraft(EMPTY)}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
