import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo } from 'react';
import { Controller, useFieldArray, useForm, type Resolver, type Control, type UseFormRegister } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { allows } from '../../../shared/admin/permissions.js';
import { fieldDefault, isWriteOnly, type FieldSpec } from '../../../shared/config/field.js';
import { schemasOf, type ResourceDef } from '../../../shared/config/resource.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { AccessDenied, isForbidden, useMe } from './access.js';

type Values = Record<string, unknown>;

function emptyValues(def: ResourceDef): Values {
  const v: Values = {};
  for (const [k, f] of Object.entries(def.fields)) if (!f.readOnly) v[k] = fieldDefault(f);
  if (def.hasAliases) v.aliases = [{ alias: '', description: '' }];
  return v;
}

/** Stored values → form values (the aliases repeater holds only alias and description). */
function formValues(def: ResourceDef, record: Values): Values {
  const v: Values = {};
  for (const [k, f] of Object.entries(def.fields)) if (!f.readOnly) v[k] = record[k] ?? fieldDefault(f);
  if (def.hasAliases)
    v.aliases = ((record.aliases as { alias: string; description: string }[]) ?? []).map(({ alias, description }) => ({ alias, description }));
  return v;
}

const toNullableNumber = (x: unknown) => (x === '' || x === null || x === undefined ? null : Number(x));

function Input({
  name,
  f,
  register,
  control,
  options,
  disabled,
}: {
  name: string;
  f: FieldSpec;
  register: UseFormRegister<Values>;
  control: Control<Values>;
  options: Record<string, { id: number; name: string }[]>;
  disabled: boolean;
}) {
  switch (f.type) {
    case 'text':
      if (f.multiline) return <textarea id={name} rows={4} disabled={disabled} {...register(name)} />;
      return <input id={name} type={f.secret && !/pin$/.test(name) ? 'password' : 'text'} autoComplete="off" disabled={disabled} {...register(name)} />;
    case 'int':
      return <input id={name} type="number" min={f.min} max={f.max} disabled={disabled} {...register(name, { setValueAs: toNullableNumber })} />;
    case 'bool':
      return <input id={name} type="checkbox" disabled={disabled} {...register(name)} />;
    case 'choice':
      return (
        <select id={name} disabled={disabled} {...register(name, { setValueAs: (x: unknown) => (x === '' ? null : x) })}>
          {f.nullable && <option value="">{f.nullLabel ?? '—'}</option>}
          {f.choices.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      );
    case 'ref':
      return (
        <Controller
          control={control}
          name={name}
          render={({ field }) => (
            <select
              id={name}
              disabled={disabled}
              value={field.value == null ? '' : String(field.value)}
              onChange={(e) => field.onChange(toNullableNumber(e.target.value))}
              onBlur={field.onBlur}
            >
              {!f.required && <option value="">{f.nullLabel ?? '—'}</option>}
              {f.required && field.value == null && <option value="">Select…</option>}
              {(options[f.resource] ?? []).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          )}
        />
      );
    case 'refList':
      return (
        <Controller
          control={control}
          name={name}
          render={({ field }) => (
            <select
              id={name}
              multiple
              disabled={disabled}
              value={((field.value as number[]) ?? []).map(String)}
              onChange={(e) => field.onChange([...e.target.selectedOptions].map((o) => Number(o.value)))}
              onBlur={field.onBlur}
            >
              {(options[f.resource] ?? []).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          )}
        />
      );
    case 'list':
      return (
        <Controller
          control={control}
          name={name}
          render={({ field }) =>
            f.choices ? (
              <select
                id={name}
                multiple
                disabled={disabled}
                value={(field.value as string[]) ?? []}
                onChange={(e) => field.onChange([...e.target.selectedOptions].map((o) => o.value))}
                onBlur={field.onBlur}
              >
                {f.choices.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            ) : (
              <textarea
                id={name}
                rows={3}
                disabled={disabled}
                value={((field.value as string[]) ?? []).join('\n')}
                onChange={(e) =>
                  field.onChange(
                    e.target.value
                      .split('\n')
                      .map((s) => s.trim())
                      .filter(Boolean),
                  )
                }
                onBlur={field.onBlur}
              />
            )
          }
        />
      );
  }
}

/**
 * Write-only secrets come back blank, and on an edit a blank one means "keep the stored value" (the
 * server drops it from the change). A required one would fail validation blank: it is validated as
 * a stand-in of acceptable length and sent blank.
 */
function keepingBlankSecrets(def: ResourceDef, base: Resolver<Values>, editing: boolean): Resolver<Values> {
  if (!editing) return base;
  const blank = (v: Values) =>
    Object.entries(def.fields)
      .filter(([k, f]) => isWriteOnly(f) && (v[k] === '' || v[k] === undefined))
      .map(([k]) => k);
  return async (values, context, options) => {
    const keep = blank(values);
    const standIn = { ...values };
    for (const k of keep) standIn[k] = 'x'.repeat(Math.max(1, (def.fields[k] as { min?: number }).min ?? 1));
    const result = await base(standIn, context, options);
    if (Object.keys(result.errors).length === 0) for (const k of keep) (result.values as Values)[k] = '';
    return result;
  };
}

/**
 * The add/edit form of any configuration resource, built from its definition: the same zod schema
 * validates here and on the server, and server-side errors land beside their fields.
 */
export function ResourceFormPage({ def }: { def: ResourceDef }) {
  const params = useParams();
  const id = def.singleton ? 1 : params.id === undefined ? undefined : Number(params.id);
  const editing = id !== undefined;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const me = useMe();
  const canModify = !!me && allows(me.permissions, def.permission, editing ? 'modify' : 'add_remove');
  const existing = useQuery({ ...trpc.config.get.queryOptions({ resource: def.name, id: id ?? 0 }), enabled: editing });
  const schema = useMemo(() => schemasOf(def).create, [def]);
  const resolver = useMemo(() => keepingBlankSecrets(def, zodResolver(schema), editing), [def, schema, editing]);
  const form = useForm<Values>({ resolver, defaultValues: emptyValues(def) });
  const { register, handleSubmit, formState, setError, reset, control } = form;
  const aliases = useFieldArray({ control, name: 'aliases' as never });

  const refTargets = useMemo(
    () => [...new Set(Object.values(def.fields).flatMap((f) => (f.type === 'ref' || f.type === 'refList' ? [f.resource] : [])))],
    [def],
  );
  const optionQueries = useQueries({ queries: refTargets.map((resource) => trpc.config.options.queryOptions({ resource })) });
  const options: Record<string, { id: number; name: string }[]> = {};
  refTargets.forEach((t, i) => (options[t] = optionQueries[i]?.data ?? []));

  useEffect(() => {
    if (existing.data) reset(formValues(def, existing.data as Values));
  }, [existing.data, reset, def]);

  const onError = useServerErrors(setError);
  const done = async () => {
    await qc.invalidateQueries({ queryKey: trpc.config.pathKey() });
    if (!def.singleton) navigate(`/${def.route}`);
  };
  const create = useMutation(
    trpc.config.create.mutationOptions({
      onSuccess: async (created) => {
        // A conferencing node added here is deployed from its downloads (bundle with a one-time token).
        if (def.name === 'worker_vm' && typeof created.id === 'number') {
          await qc.invalidateQueries({ queryKey: trpc.config.pathKey() });
          navigate(`/node-status?enroll=${created.id}`);
        } else await done();
      },
      onError,
    }),
  );
  const update = useMutation(trpc.config.update.mutationOptions({ onSuccess: done, onError }));

  const submit = handleSubmit((values) => {
    const cleaned = def.hasAliases ? { ...values, aliases: ((values.aliases as { alias: string }[]) ?? []).filter((a) => a.alias.trim() !== '') } : values;
    if (editing) update.mutate({ resource: def.name, id: id!, patch: cleaned });
    else create.mutate({ resource: def.name, values: cleaned });
  });

  if (editing && existing.isPending) return <p className="loading">Loading…</p>;
  if (isForbidden(existing.error)) return <AccessDenied />;
  if (editing && existing.error) return <p role="alert">{errorMessage(existing.error)}</p>;
  if (!editing && me && !canModify) return <AccessDenied />;

  const errs = formState.errors as Record<string, { message?: string } | undefined> & {
    aliases?: { alias?: { message?: string }; description?: { message?: string } }[] & { message?: string };
  };
  const sections = new Map<string, [string, FieldSpec][]>();
  for (const [k, f] of Object.entries(def.fields)) {
    if (f.readOnly) continue;
    const s = f.section ?? '';
    sections.set(s, [...(sections.get(s) ?? []), [k, f]]);
  }
  const renderField = ([k, f]: [string, FieldSpec]) => (
    <Field
      key={k}
      id={k}
      label={f.label}
      error={errs[k]?.message}
      notYetActive={f.notYetActive}
      hint={[f.help, f.restartsNodes && !f.notYetActive ? 'Applies to conferences started after the change.' : ''].filter(Boolean).join(' ') || undefined}
    >
      <Input name={k} f={f} register={register} control={control} options={options} disabled={!canModify} />
    </Field>
  );
  const saved = update.isSuccess && def.singleton;

  return (
    <section>
      {!def.singleton && (
        <p className="crumbs">
          <Link to={`/${def.route}`}>{def.plural}</Link> ›
        </p>
      )}
      <h1>{def.singleton ? def.label : editing ? `Edit ${def.label}` : `Add ${def.label}`}</h1>
      {def.singleton && def.intro && <p className="meta">{def.intro}</p>}
      <form onSubmit={submit} className="card form" noValidate>
        {(sections.get('') ?? []).map(renderField)}
        {def.hasAliases && (
          <fieldset className="aliases">
            <legend>Aliases</legend>
            {aliases.fields.map((field, i) => (
              <div key={field.id} className="alias-row">
                <Field id={`alias-${i}`} label={`Alias ${i + 1}`} error={errs.aliases?.[i]?.alias?.message}>
                  <input id={`alias-${i}`} disabled={!canModify} {...register(`aliases.${i}.alias`)} />
                </Field>
                <Field id={`alias-${i}-description`} label={`Alias ${i + 1} description`} error={errs.aliases?.[i]?.description?.message}>
                  <input id={`alias-${i}-description`} disabled={!canModify} {...register(`aliases.${i}.description`)} />
                </Field>
                {canModify && (
                  <button type="button" className="secondary" onClick={() => aliases.remove(i)}>
                    Remove
                  </button>
                )}
              </div>
            ))}
            {errs.aliases?.message && (
              <span role="alert" className="field-error">
                {errs.aliases.message}
              </span>
            )}
            {canModify && (
              <button type="button" className="secondary" onClick={() => aliases.append({ alias: '', description: '' } as never)}>
                Add another Alias
              </button>
            )}
          </fieldset>
        )}
        {[...sections.entries()]
          .filter(([s]) => s !== '')
          .map(([s, fields]) => (
            <fieldset key={s} className="section">
              <legend>{s}</legend>
              {fields.map(renderField)}
            </fieldset>
          ))}
        {saved && <p className="meta">Saved.</p>}
        <FormFooter
          rootError={errs.root?.message}
          canSave={canModify}
          pending={create.isPending || update.isPending}
          backTo={def.singleton ? undefined : `/${def.route}`}
        />
      </form>
    </section>
  );
}
