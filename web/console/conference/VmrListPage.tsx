import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Pager, useDebounced } from '../forms/Pager.js';
import { Link } from 'react-router-dom';
import { errorMessage, useTRPC } from '../trpc.js';

const PAGE = 20;

/** Virtual Meeting Rooms: server-side search, sort by name and paging. */
export function VmrListPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [desc, setDesc] = useState(false);
  const debounced = useDebounced(search, () => setOffset(0));
  const list = useQuery({
    ...trpc.vmr.list.queryOptions({ search: debounced || undefined, offset, limit: PAGE, orderBy: desc ? '-name' : 'name' }),
    placeholderData: keepPreviousData,
  });
  const remove = useMutation(trpc.vmr.delete.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.vmr.pathKey() }) }));
  const total = list.data?.total ?? 0;

  return (
    <section>
      <div className="page-head">
        <h1>Virtual Meeting Rooms</h1>
        <Link to="/vmrs/new" className="button">
          Add Virtual Meeting Room
        </Link>
      </div>
      <div className="toolbar">
        <label htmlFor="search">Search</label>
        <input id="search" type="search" placeholder="Name, description or alias" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>
              <button type="button" className="link" onClick={() => setDesc(!desc)} aria-label="Sort by name">
                Name {desc ? '▼' : '▲'}
              </button>
            </th>
            <th>Aliases</th>
            <th>Host PIN</th>
            <th>Allow Guests</th>
            <th>Participant limit</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((v) => (
            <tr key={v.id}>
              <td>
                <Link to={`/vmrs/${v.id}`}>{v.name}</Link>
              </td>
              <td>{v.aliases.map((a) => a.alias).join(', ')}</td>
              <td>{v.pin ? 'Yes' : 'No'}</td>
              <td>{v.allow_guests ? 'Yes' : 'No'}</td>
              <td>{v.participant_limit ?? 'Unlimited'}</td>
              <td>
                <button
                  type="button"
                  className="danger"
                  onClick={() => window.confirm(`Delete "${v.name}"?`) && remove.mutate({ id: v.id })}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {list.data && list.data.items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No Virtual Meeting Rooms{debounced ? ' match the search' : ' yet'}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager offset={offset} total={total} pageSize={PAGE} onOffset={setOffset} />
    </section>
  );
}
