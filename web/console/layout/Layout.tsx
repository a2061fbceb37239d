import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Navigate, NavLink, Outlet, useNavigate } from 'react-router-dom';
import { RESOURCES } from '../../../shared/config/registry.js';
import type { Menu } from '../../../shared/config/resource.js';
import { AlarmBadge } from '../alarms/AlarmBadge.js';
import { useTRPC } from '../trpc.js';

/** Pages that are not plain configuration resources, placed in the guide's menus. */
const EXTRA: Record<string, { to: string; label: string }[]> = {
  Services: [{ to: '/themes', label: 'Themes' }],
  Platform: [
    { to: '/tls-certificates', label: 'TLS certificates' },
    { to: '/ca-certificates', label: 'Trusted CA certificates' },
  ],
  'Users & Devices': [
    { to: '/administrators', label: 'Administrator accounts' },
    { to: '/roles', label: 'Administrator roles' },
  ],
  Utilities: [
    { to: '/bulk', label: 'Import/Export (CSV)' },
    { to: '/backups', label: 'Backup/Restore' },
    { to: '/regex-tester', label: 'Regular Expression Tester' },
  ],
  Status: [
    { to: '/live', label: 'Live view' },
    { to: '/status', label: 'Live status' },
    { to: '/node-status', label: 'Conferencing node status' },
    { to: '/alarms', label: 'Alarms' },
  ],
  'History & logs': [
    { to: '/history/conferences', label: 'Conference history' },
    { to: '/history/participants', label: 'Participant history' },
    { to: '/admin-log', label: 'Administrator log' },
    { to: '/support-log', label: 'Support log' },
    { to: '/login-history', label: 'Login history' },
  ],
};
const MENUS: (Menu | 'Status' | 'History & logs')[] = [
  'Services',
  'Call Control',
  'Users & Devices',
  'Platform',
  'System',
  'Utilities',
  'Status',
  'History & logs',
];

/** Signed-in frame: navigation by the guide's menus (every item stays visible, as the guide says); visitors go to /login. */
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
        <div className="brand">
          OpenMeet <AlarmBadge />
        </div>
        {MENUS.map((menu) => (
          <div key={menu} className="menu">
            <p className="section">{menu}</p>
            {RESOURCES.filter((d) => d.menu === menu).map((d) => (
              <NavLink key={d.name} to={`/${d.route}`}>
                {d.singleton ? d.label : d.plural}
              </NavLink>
            ))}
            {(EXTRA[menu] ?? []).map((l) => (
              <NavLink key={l.to} to={l.to}>
                {l.label}
              </NavLink>
            ))}
          </div>
        ))}
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
