import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Pager, useDebounced } from '../forms/Pager.js';
import { errorMessage, useTRPC } from '../trpc.js';

const PAGE = 50;

const show = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : Array.isArray(v) ? v.join(', ') : String(v));

/** Administrator log: every configuration change with who, when and what changed (before → after). */
export function AdminLogPage() {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const debounced = useDebounced(search, () => setOffset(0));
  const log = useQuery({
    ...trpc.adminLog.list.queryOptions({ search: debounced || undefined, offset, limit: PAGE }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const total = log.data?.total ?? 0;
  return (
    <section>
      <h1>Administrator log</h1>
      <div className="toolbar">
        <label htmlFor="log-search">Search</label>
        <input id="log-search" type="search" placeholder="User, object, name or action" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {log.error && <p role="alert">{errorMessage(log.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>User</th>
            <th>Action</th>
            <th>Object</th>
            <th>Changes</th>
          </tr>
        </thead>
        <tbody>
          {log.data?.items.map((e) => (
            <tr key={e.id} data-testid="admin-log-entry">
              <td>{new Date(e.time).toLocaleString()}</td>
              <td>{e.username}</td>
              <td>{e.action}</td>
              <td>
                {e.objectType}: <strong>{e.objectName}</strong>
              </td>
              <td>
                <ul className="changes">
                  {Object.entries(e.changes).map(([field, c]) => (
                    <li key={field}>
                      <code>{field}</code>: {show(c.before)} → {show(c.after)}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
          {log.data?.items.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No entries{debounced ? ' match the search' : ''}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager offset={offset} total={total} pageSize={PAGE} onOffset={setOffset} />
    </section>
  );
}
