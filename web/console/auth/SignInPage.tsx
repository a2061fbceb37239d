import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useNavigate } from 'react-router-dom';
import { loginSchema, type LoginInput } from '../../../shared/auth/signIn.schema.js';
import { Field } from '../forms/Field.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { useTRPC } from '../trpc.js';

export function SignInPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const { register, handleSubmit, formState, setError } = useForm<LoginInput>({
    resolver: zodResolver(loginSchema),
    defaultValues: { username: '', password: '' },
  });
  // A refused sign-in (wrong password, throttled, no web access) has no field: it is the form's root error.
  const onError = useServerErrors(setError);
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async (me) => {
        // Drop what was cached while signed out (e.g. `me` = null) before entering the console.
        qc.removeQueries();
        qc.setQueryData(trpc.auth.me.queryKey(), me);
        navigate('/live');
      },
      onError,
    }),
  );
  const e = formState.errors;
  return (
    <main className="signin">
      <form onSubmit={handleSubmit((v) => login.mutate(v))} className="card" noValidate>
        <h1>Administration</h1>
        <Field id="username" label="Username" error={e.username?.message}>
          <input id="username" autoComplete="username" {...register('username')} />
        </Field>
        <Field id="password" label="Password" error={e.password?.message}>
          <input id="password" type="password" autoComplete="current-password" {...register('password')} />
        </Field>
        {e.root?.message && (
          <p role="alert" className="form-error">
            {e.root.message}
          </p>
        )}
        <button type="submit" disabled={login.isPending}>
          Sign in
        </button>
      </form>
    </main>
  );
}
