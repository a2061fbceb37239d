import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { saveTextFile } from '../files/saveFile.js';
import { Pager, useDebounced } from '../forms/Pager.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { DateRange, useDateRange } from './DateRange.js';
import { duration, historyTime } from './historyFormat.js';

const PAGE = 50;

/** History & Logs > Conference History: completed conferences, newest first, with search, a date range and CSV export. */
export function ConferenceHistoryPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const debounced = useDebounced(search, () => setOffset(0));
  const range = useDateRange(() => setOffset(0));
  const filter = { search: debounced || undefined, from: range.from, to: range.to };
  const list = useQuery({
    ...trpc.history.conferences.queryOptions({ ...filter, offset, limit: PAGE }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const [exportError, setExportError] = useState<string | null>(null);
  const exportCsv = async () => {
    setExportError(null);
    try {
      const file = await qc.fetchQuery(trpc.history.conferencesCsv.queryOptions(filter, { staleTime: 0 }));
      saveTextFile(file.fileName, file.csv, 'text/csv');
    } catch (err) {
      setExportError(errorMessage(err));
    }
  };
  return (
    <section>
      <div className="page-head">
        <h1>Conference history</h1>
        <button type="button" className="secondary" onClick={() => void exportCsv()}>
          Export CSV
        </button>
      </div>
      <div className="toolbar">
        <label htmlFor="history-search">Search</label>
        <input id="history-search" type="search" placeholder="Service name" value={search} onChange={(e) => setSearch(e.target.value)} />
        <DateRange range={range} />
      </div>
      {(list.error || exportError) && <p role="alert">{list.error ? errorMessage(list.error) : exportError}</p>}
      <table>
        <thead>
          <tr>
            <th>Service name</th>
            <th>Start time</th>
            <th>End time</th>
            <th>Duration</th>
            <th>Participant count</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.objects.map((c) => (
            <tr key={c.id} data-testid="history-conference">
              <td>
                <Link to={`/history/conferences/${encodeURIComponent(c.id)}`}>{c.name}</Link>
              </td>
              <td>{historyTime(c.start_time)}</td>
              <td>{historyTime(c.end_time)}</td>
              <td data-testid="history-duration" title={`${c.duration} s`}>
                {duration(c.duration)}
              </td>
              <td data-testid="history-participant-count">{c.participant_count}</td>
            </tr>
          ))}
          {list.data?.objects.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No completed conferences{debounced || range.from || range.to ? ' match the search' : ''}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager offset={offset} total={list.data?.total ?? 0} pageSize={PAGE} onOffset={setOffset} />
    </section>
  );
}
