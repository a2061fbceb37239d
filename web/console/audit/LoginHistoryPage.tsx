import { useQuery } from '@tanstack/react-query';
import { errorMessage, useTRPC } from '../trpc.js';

/** History & Logs > Login History: the 100 most recent sign-in attempts, successful and failed. */
export function LoginHistoryPage() {
  const trpc = useTRPC();
  const history = useQuery({ ...trpc.auth.loginHistory.queryOptions(), refetchInterval: 10_000 });
  return (
    <section>
      <h1>Login history</h1>
      {history.error && <p role="alert">{errorMessage(history.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Username</th>
            <th>Remote address</th>
            <th>Interface</th>
            <th>Result</th>
          </tr>
        </thead>
        <tbody>
          {history.data?.map((e) => (
            <tr key={e.id} data-testid="login-history-entry">
              <td>{new Date(e.time).toLocaleString()}</td>
              <td>{e.username}</td>
              <td>{e.port ? `${e.address}:${e.port}` : e.address}</td>
              <td>{e.channel === 'web' ? 'Web' : 'API'}</td>
              <td>{e.success ? 'Success' : `Failed (${e.reason})`}</td>
            </tr>
          ))}
          {history.data?.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No sign-in attempts yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
