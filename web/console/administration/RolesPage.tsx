import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { roleCreateSchema, type RoleCreate, type RoleCreateInput } from '../../../shared/admin/administration.schema.js';
import { ALL_PERMISSIONS, allows, PERMISSIONS } from '../../../shared/admin/permissions.js';
import { Field } from '../forms/Field.js';
import { CheckboxSet, FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC } from '../trpc.js';

// The server names a permission's error `permissions.<i>`; the form shows it under the set.
const permissionsField = (f: string) => (f.startsWith('permissions') ? 'permissions' : f);

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

  const onError = useServerErrors(setError, permissionsField);
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
            render={({ field }) => (
              <CheckboxSet
                legend="Permissions"
                className="permissions"
                idPrefix="perm"
                options={ALL_PERMISSIONS.map((p) => ({ value: p, label: PERMISSIONS[p] }))}
                value={field.value ?? []}
                onChange={field.onChange}
                error={e.permissions?.message}
              />
            )}
          />
        </fieldset>
        <FormFooter rootError={e.root?.message} canSave={!readOnly} pending={create.isPending || update.isPending} backTo="/roles" />
      </form>
    </section>
  );
}
