import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Controller, useForm, type FieldPath } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { roleCreateSchema, type RoleCreate, type RoleCreateInput } from '../../../shared/admin/administration.schema.js';
import { ALL_PERMISSIONS, allows, PERMISSIONS, type Permission } from '../../../shared/admin/permissions.js';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

/** Whether the signed-in administrator may add/remove or modify administrators and roles. */
export function useAuthenticationRights(): { addRemove: boolean; modify: boolean } {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const perms = me.data?.permissions ?? [];
  return { addRemove: allows(perms, 'authentication', 'add_remove'), modify: allows(perms, 'authentication', 'modify') };
}

/** Users & Devices > Administrator Roles. */
export function RolesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rights = useAuthenticationRights();
  const list = useQuery(trpc.administration.roles.list.queryOptions());
  const remove = useMutation(
    trpc.administration.roles.delete.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.administration.roles.pathKey() }) }),
  );

  if (list.error) return <p role="alert">{errorMessage(list.error)}</p>;
  return (
    <section>
      <div className="page-head">
        <h1>Administrator Roles</h1>
        {rights.addRemove && (
          <Link to="/roles/new" className="button">
            Add Administrator Role
          </Link>
        )}
      </div>
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Permissions</th>
            <th>Built-in</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.map((r) => (
            <tr key={r.id}>
              <td>
                <Link to={`/roles/${r.id}`}>{r.name}</Link>
              </td>
              <td>{r.permissions.length}</td>
              <td>{r.builtin ? 'Yes' : 'No'}</td>
              <td>
                {rights.addRemove && !r.builtin && (
                  <button type="button" className="danger" onClick={() => window.confirm(`Delete "${r.name}"?`) && remove.mutate({ id: r.id })}>
                    Delete
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const EMPTY: RoleCreateInput = { name: '', permissions: ['is_administrator', 'may_use_web'] };

/** Add or edit a role: a checkbox per permission, labelled with the guide's permission names. */
export function RoleFormPage() {
  const { id } = useParams();
  const editing = id !== undefined;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const rights = useAuthenticationRights();
  const existing = useQuery({ ...trpc.administration.roles.get.queryOptions({ id: Number(id) }), enabled: editing });
  const { register, handleSubmit, formState, setError, reset, control } = useForm<RoleCreateInput, unknown, RoleCreate>({
    resolver: zodResolver(roleCreateSchema),
    defaultValues: EMPTY,
  });

  useEffect(() => {
    if (existing.data) reset({ name: existing.data.name, permissions: existing.data.permissions });
  }, [existing.data, reset]);

  const onError = (err: unknown) => {
    const fields = serverFieldErrors(err);
    if (Object.keys(fields).length === 0) setError('root', { message: errorMessage(err) });
    for (const [field, messages] of Object.entries(fields)) {
      const key = field === '__all__' ? 'root' : field.startsWith('permissions') ? 'permissions' : field;
      setError(key as FieldPath<RoleCreateInput>, { message: messages.join(' ') });
    }
  };
  const done = async () => {
    await qc.invalidateQueries({ queryKey: trpc.administration.roles.pathKey() });
    navigate('/roles');
  };
  const create = useMutation(trpc.administration.roles.create.mutationOptions({ onSuccess: done, onError }));
  const update = useMutation(trpc.administration.roles.update.mutationOptions({ onSuccess: done, onError }));
  const submit = handleSubmit((values) => (editing ? update.mutate({ id: Number(id), patch: values }) : create.mutate(values)));

  if (editing && existing.isPending) return <p className="loading">Loading…</p>;
  if (editing && existing.error) return <p role="alert">{errorMessage(existing.error)}</p>;
  const builtin = existing.data?.builtin === true;
  const readOnly = builtin || !(editing ? rights.modify : rights.addRemove);
  const e = formState.errors;
  return (
    <section>
      <p className="crumbs">
        <Link to="/roles">Administrator Roles</Link> ›
      </p>
      <h1>{editing ? 'Edit Administrator Role' : 'Add Administrator Role'}</h1>
      {builtin && <p className="hint">Built-in roles cannot be changed.</p>}
      <form onSubmit={submit} className="card form" noValidate>
        <fieldset disabled={readOnly}>
          <Field id="name" label="Name" error={e.name?.message}>
            <input id="name" {...register('name')} />
          </Field>
          <Controller
            control={control}
            name="permissions"
            render={({ field }) => {
              const chosen = new Set<Permission>(field.value ?? []);
              const toggle = (p: Permission, on: boolean) => {
                const next = new Set(chosen);
                if (on) next.add(p);
                else next.delete(p);
                field.onChange(ALL_PERMISSIONS.filter((x) => next.has(x)));
              };
              return (
                <fieldset className="permissions">
                  <legend>Permissions</legend>
                  {ALL_PERMISSIONS.map((p) => (
                    <div key={p} className="checkbox-row">
                      <input id={`perm-${p}`} type="checkbox" checked={chosen.has(p)} onChange={(ev) => toggle(p, ev.target.checked)} />
                      <label htmlFor={`perm-${p}`}>{PERMISSIONS[p]}</label>
                    </div>
                  ))}
                  {e.permissions?.message && (
                    <span role="alert" className="field-error">
                      {e.permissions.message}
                    </span>
                  )}
                </fieldset>
              );
            }}
          />
        </fieldset>
        {e.root?.message && <p role="alert" className="form-error">{e.root.message}</p>}
        <div className="actions">
          {!readOnly && (
            <button type="submit" disabled={create.isPending || update.isPending}>
              Save
            </button>
          )}
          <Link to="/roles">{readOnly ? 'Back' : 'Cancel'}</Link>
        </div>
      </form>
    </section>
  );
}
