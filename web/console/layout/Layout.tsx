import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Navigate, NavLink, Outlet, useNavigate } from 'react-router-dom';
import { useTRPC } from '../trpc.js';

/** Signed-in frame: navigation by the guide's sections; unauthenticated visitors go to /login. */
export function Layout() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const me = useQuery(trpc.auth.me.queryOptions());
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSuccess: () => {
        qc.clear();
        navigate('/login');
      },
    }),
  );
  if (me.isPending || (!me.data && me.isFetching)) return <p className="loading">Loading…</p>;
  if (!me.data) return <Navigate to="/login" replace />;
  return (
    <div className="shell">
      <nav>
        <div className="brand">OpenMeet</div>
        <p className="section">Services</p>
        <NavLink to="/vmrs">Virtual Meeting Rooms</NavLink>
        <p className="section">Platform</p>
        <NavLink to="/nodes">Conferencing nodes</NavLink>
        <NavLink to="/locations">System locations</NavLink>
        <p className="section">Status</p>
        <NavLink to="/status">Live status</NavLink>
        <p className="section">History &amp; logs</p>
        <NavLink to="/admin-log">Administrator log</NavLink>
        <div className="user">
          <span>{me.data.username}</span>
          <button type="button" className="link" onClick={() => logout.mutate()}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
