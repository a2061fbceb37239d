import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useFieldArray, useForm, type FieldPath } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { vmrCreateSchema, type VmrCreate, type VmrCreateInput } from '../../../shared/conference/vmr.schema.js';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

const EMPTY: VmrCreateInput = {
  name: '',
  description: '',
  aliases: [{ alias: '', description: '' }],
  pin: '',
  guest_pin: '',
  allow_guests: false,
  participant_limit: null,
};

/** Create or edit a Virtual Meeting Room; the guide's rules run here (shared schema) and on the server. */
export function VmrFormPage() {
  const { id } = useParams();
  const editing = id !== undefined;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const existing = useQuery({ ...trpc.vmr.get.queryOptions({ id: Number(id) }), enabled: editing });
  const form = useForm<VmrCreateInput, unknown, VmrCreate>({ resolver: zodResolver(vmrCreateSchema), defaultValues: EMPTY });
  const { register, handleSubmit, formState, setError, reset, control } = form;
  const aliases = useFieldArray({ control, name: 'aliases' });

  useEffect(() => {
    const v = existing.data;
    if (v) {
      reset({
        name: v.name,
        description: v.description,
        aliases: v.aliases.map(({ alias, description }) => ({ alias, description })),
        pin: v.pin,
        guest_pin: v.guest_pin,
        allow_guests: v.allow_guests,
        participant_limit: v.participant_limit,
      });
    }
  }, [existing.data, reset]);

  const onError = (err: unknown) => {
    const fields = serverFieldErrors(err);
    if (Object.keys(fields).length === 0) setError('root', { message: errorMessage(err) });
    for (const [field, messages] of Object.entries(fields)) {
      setError((field === '__all__' ? 'root' : field) as FieldPath<VmrCreateInput>, { message: messages.join(' ') });
    }
  };
  const done = async () => {
    await qc.invalidateQueries({ queryKey: trpc.vmr.pathKey() });
    navigate('/vmrs');
  };
  const create = useMutation(trpc.vmr.create.mutationOptions({ onSuccess: done, onError }));
  const update = useMutation(trpc.vmr.update.mutationOptions({ onSuccess: done, onError }));

  const submit = handleSubmit((values) => {
    const cleaned = { ...values, aliases: values.aliases.filter((a) => a.alias.trim() !== '') };
    if (editing) update.mutate({ id: Number(id), patch: cleaned });
    else create.mutate(cleaned);
  });

  const e = formState.errors;
  if (editing && existing.isPending) return <p className="loading">Loading…</p>;
  if (editing && existing.error) return <p role="alert">{errorMessage(existing.error)}</p>;
  return (
    <section>
      <p className="crumbs">
        <Link to="/vmrs">Virtual Meeting Rooms</Link> ›
      </p>
      <h1>{editing ? `Edit Virtual Meeting Room` : 'Add Virtual Meeting Room'}</h1>
      <form onSubmit={submit} className="card form" noValidate>
        <Field id="name" label="Name" error={e.name?.message}>
          <input id="name" {...register('name')} />
        </Field>
        <Field id="description" label="Description" error={e.description?.message}>
          <input id="description" {...register('description')} />
        </Field>
        <Field id="pin" label="Host PIN" error={e.pin?.message} hint="4–20 digits, optional trailing #. Blank: no PIN.">
          <input id="pin" inputMode="numeric" autoComplete="off" {...register('pin')} />
        </Field>
        <Field id="allow_guests" label="Allow Guests" error={e.allow_guests?.message}>
          <input id="allow_guests" type="checkbox" {...register('allow_guests')} />
        </Field>
        <Field id="guest_pin" label="Guest PIN" error={e.guest_pin?.message}>
          <input id="guest_pin" inputMode="numeric" autoComplete="off" {...register('guest_pin')} />
        </Field>
        <Field id="participant_limit" label="Participant limit" error={e.participant_limit?.message} hint="Blank: unlimited.">
          <input
            id="participant_limit"
            type="number"
            min={0}
            {...register('participant_limit', { setValueAs: (v: unknown) => (v === '' || v === null || v === undefined ? null : Number(v)) })}
          />
        </Field>
        <fieldset className="aliases">
          <legend>Aliases</legend>
          {aliases.fields.map((f, i) => (
            <div key={f.id} className="alias-row">
              <Field id={`alias-${i}`} label={`Alias ${i + 1}`} error={e.aliases?.[i]?.alias?.message}>
                <input id={`alias-${i}`} {...register(`aliases.${i}.alias` as const)} />
              </Field>
              <Field id={`alias-${i}-description`} label={`Alias ${i + 1} description`} error={e.aliases?.[i]?.description?.message}>
                <input id={`alias-${i}-description`} {...register(`aliases.${i}.description` as const)} />
              </Field>
              <button type="button" className="secondary" onClick={() => aliases.remove(i)}>
                Remove
              </button>
            </div>
          ))}
          {e.aliases?.message && <span role="alert" className="field-error">{e.aliases.message}</span>}
          <button type="button" className="secondary" onClick={() => aliases.append({ alias: '', description: '' })}>
            Add another Alias
          </button>
        </fieldset>
        {e.root?.message && <p role="alert" className="form-error">{e.root.message}</p>}
        <div className="actions">
          <button type="submit" disabled={create.isPending || update.isPending}>
            Save
          </button>
          <Link to="/vmrs">Cancel</Link>
        </div>
      </form>
    </section>
  );
}
