import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { Pager, useDebounced } from '../forms/Pager.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { DateRange, useDateRange } from './DateRange.js';
import { duration, historyTime, qualityClass, qualityLabel, roleLabel } from './historyFormat.js';

const PAGE = 50;

/** History & Logs > Participant History: every call of the recent conferences, newest first. */
export function ParticipantHistoryPage() {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const debounced = useDebounced(search, () => setOffset(0));
  const range = useDateRange(() => setOffset(0));
  const list = useQuery({
    ...trpc.history.participants.queryOptions({ search: debounced || undefined, from: range.from, to: range.to, offset, limit: PAGE }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  return (
    <section>
      <h1>Participant history</h1>
      <div className="toolbar">
        <label htmlFor="history-search">Search</label>
        <input id="history-search" type="search" placeholder="Display name" value={search} onChange={(e) => setSearch(e.target.value)} />
        <DateRange range={range} />
      </div>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Participant alias</th>
            <th>Service name</th>
            <th>Call quality</th>
            <th>Start time</th>
            <th>End time</th>
            <th>Duration</th>
            <th>Role</th>
            <th>Disconnect reason</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.objects.map((p) => (
            <tr key={p.id} data-testid="history-participant">
              <td>
                <Link to={`/history/participants/${encodeURIComponent(p.id)}`}>{p.remote_alias || p.display_name || p.id}</Link>
              </td>
              <td>
                <Link to={`/history/conferences/${encodeURIComponent(p.conference.split('/').at(-2) ?? '')}`}>{p.conference_name}</Link>
              </td>
              <td>
                <span className={qualityClass(p.call_quality)}>{qualityLabel(p.call_quality)}</span>
              </td>
              <td>{historyTime(p.start_time)}</td>
              <td>{historyTime(p.end_time)}</td>
              <td>{duration(p.duration)}</td>
              <td>{roleLabel(p.role)}</td>
              <td>{p.disconnect_reason || '—'}</td>
            </tr>
          ))}
          {list.data?.objects.length === 0 && (
            <tr>
              <td colSpan={8} className="empty">
                No participant records{debounced || range.from || range.to ? ' match the search' : ''}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager offset={offset} total={list.data?.total ?? 0} pageSize={PAGE} onOffset={setOffset} />
    </section>
  );
}
