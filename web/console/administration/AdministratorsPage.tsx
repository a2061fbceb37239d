import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Controller, useForm, type Resolver } from 'react-hook-form';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { accountCreateSchema, accountPatchSchema } from '../../../shared/admin/administration.schema.js';
import { Field } from '../forms/Field.js';
import { CheckboxSet, FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC } from '../trpc.js';

// The server names a role's error `roles.<i>`; the form shows it under the set.
const rolesField = (f: string) => (f.startsWith('roles') ? 'roles' : f);
import { useAuthenticationRights } from './RolesPage.js';

/** Administrator accounts: username, name, email and roles; never a password. */
export function AdministratorsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rights = useAuthenticationRights();
  const me = useQuery(trpc.auth.me.queryOptions());
  const list = useQuery(trpc.administration.accounts.list.queryOptions());
  const remove = useMutation(
    trpc.administration.accounts.delete.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.administration.accounts.pathKey() }) }),
  );

  if (list.error) return <p role="alert">{errorMessage(list.error)}</p>;
  return (
    <section>
      <div className="page-head">
        <h1>Administrators</h1>
        {rights.addRemove && (
          <Link to="/administrators/new" className="button">
            Add Administrator
          </Link>
        )}
      </div>
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Username</th>
            <th>Full name</th>
            <th>Email</th>
            <th>Roles</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.map((a) => (
            <tr key={a.id}>
              <td>
                <Link to={`/administrators/${a.id}`}>{a.username}</Link>
              </td>
              <td>{a.full_name}</td>
              <td>{a.email}</td>
              <td>{a.roles.map((r) => r.name).join(', ')}</td>
              <td>
                {rights.addRemove && a.username !== 'admin' && a.username !== me.data?.username && (
                  <button type="button" className="danger" onClick={() => window.confirm(`Delete "${a.username}"?`) && remove.mutate({ id: a.id })}>
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

interface AccountForm {
  username: string;
  password: string;
  password_confirm: string;
  full_name: string;
  email: string;
  roles: number[];
}
const EMPTY: AccountForm = { username: '', password: '', password_confirm: '', full_name: '', email: '', roles: [] };

// The same shared schemas as the server: create needs a password, an edit does not. The form holds
// every field either way, so an edit's parsed fields (trimmed) are laid over the form's values.
const createSchemaResolver = zodResolver(accountCreateSchema);
const patchSchemaResolver = zodResolver(accountPatchSchema);
const createResolver: Resolver<AccountForm> = (values, context, options) => createSchemaResolver(values, context, { ...options });
const patchResolver: Resolver<AccountForm> = async (values, context, options) => {
  const r = await patchSchemaResolver(values, context, { ...options });
  return Object.keys(r.errors).length > 0 ? { values: {}, errors: r.errors } : { values: { ...values, ...r.values }, errors: {} };
};

/** Add or edit an administrator; when editing, a blank password keeps the current one. */
export function AdministratorFormPage() {
  const { id } = useParams();
  const editing = id !== undefined;
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const rights = useAuthenticationRights();
  const roles = useQuery(trpc.administration.roles.list.queryOptions());
  const existing = useQuery({ ...trpc.administration.accounts.get.queryOptions({ id: Number(id) }), enabled: editing });
  const resolver = editing ? patchResolver : createResolver;
  const { register, handleSubmit, formState, setError, reset, control } = useForm<AccountForm>({ resolver, defaultValues: EMPTY });

  useEffect(() => {
    const a = existing.data;
    if (a) reset({ ...EMPTY, username: a.username, full_name: a.full_name, email: a.email, roles: a.roles.map((r) => r.id) });
  }, [existing.data, reset]);

  const onError = useServerErrors(setError, rolesField);
  const done = async () => {
    await qc.invalidateQueries({ queryKey: trpc.administration.accounts.pathKey() });
    navigate('/administrators');
  };
  const create = useMutation(trpc.administration.accounts.create.mutationOptions({ onSuccess: done, onError }));
  const update = useMutation(trpc.administration.accounts.update.mutationOptions({ onSuccess: done, onError }));
  const submit = handleSubmit((v) => {
    if (!editing) return create.mutate(v);
    const { password, password_confirm, ...rest } = v;
    update.mutate({ id: Number(id), patch: password ? { ...rest, password, password_confirm } : rest });
  });

  if (editing && existing.isPending) return <p className="loading">Loading…</p>;
  if (editing && existing.error) return <p role="alert">{errorMessage(existing.error)}</p>;
  const readOnly = !(editing ? rights.modify : rights.addRemove);
  const e = formState.errors;
  return (
    <section>
      <p className="crumbs">
        <Link to="/administrators">Administrators</Link> ›
      </p>
      <h1>{editing ? 'Edit Administrator' : 'Add Administrator'}</h1>
      <form onSubmit={submit} className="card form" noValidate>
        <fieldset disabled={readOnly}>
          <Field id="username" label="Username" error={e.username?.message}>
            <input id="username" autoComplete="off" {...register('username')} />
          </Field>
          <Field id="password" label="Password" error={e.password?.message} hint={editing ? 'Blank: keep the current password.' : 'At least 8 characters.'}>
            <input id="password" type="password" autoComplete="new-password" {...register('password')} />
          </Field>
          <Field id="password_confirm" label="Password (again)" error={e.password_confirm?.message}>
            <input id="password_confirm" type="password" autoComplete="new-password" {...register('password_confirm')} />
          </Field>
          <Field id="full_name" label="Full name" error={e.full_name?.message}>
            <input id="full_name" {...register('full_name')} />
          </Field>
          <Field id="email" label="Email" error={e.email?.message}>
            <input id="email" type="email" {...register('email')} />
          </Field>
          <Controller
            control={control}
            name="roles"
            render={({ field }) => (
              <>
                <CheckboxSet
                  legend="Roles"
                  className="roles"
                  idPrefix="role"
                  options={(roles.data ?? []).map((r) => ({ value: r.id, label: r.name }))}
                  value={field.value}
                  onChange={field.onChange}
                  error={e.roles?.message}
                />
                {roles.error && <p role="alert">{errorMessage(roles.error)}</p>}
              </>
            )}
          />
        </fieldset>
        <FormFooter rootError={e.root?.message} canSave={!readOnly} pending={create.isPending || update.isPending} backTo="/administrators" />
      </form>
    </section>
  );
}
