import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { Field } from '../forms/Field.js';
import { errorMessage, useTRPC } from '../trpc.js';

export function SignInPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async (me) => {
        // Drop what was cached while signed out (e.g. `me` = null) before entering the console.
        qc.removeQueries();
        qc.setQueryData(trpc.auth.me.queryKey(), me);
        navigate('/vmrs');
      },
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ username, password });
  };
  return (
    <main className="signin">
      <form onSubmit={submit} className="card">
        <h1>Administration</h1>
        <Field id="username" label="Username">
          <input id="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </Field>
        <Field id="password" label="Password">
          <input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </Field>
        {login.error && <p role="alert" className="form-error">{errorMessage(login.error)}</p>}
        <button type="submit" disabled={login.isPending}>
          Sign in
        </button>
      </form>
    </main>
  );
}
