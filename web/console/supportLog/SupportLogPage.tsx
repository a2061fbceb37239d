import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { SUPPORT_LOG_LEVELS, supportLogTime, type SupportLogLevel } from '../../../shared/admin/supportLog.schema.js';
import { Pager, useDebounced } from '../forms/Pager.js';
import { errorMessage, useTRPC } from '../trpc.js';

const PAGE = 100;
const LEVEL_LABELS: Record<SupportLogLevel, string> = { debug: 'Debug', info: 'Info', warning: 'Warning', error: 'Error' };

/** A `datetime-local` value (minutes) read as UTC, as the table shows times; `seconds` into the minute (the end of a range takes it whole). */
function utc(local: string, seconds = 0): string | undefined {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(local)) return undefined;
  return `${local}:${seconds.toFixed(3).padStart(6, '0')}+00:00`;
}

/** Support log: what the management node and every conferencing node logged, newest first (times in UTC, as the guide shows them). */
export function SupportLogPage() {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const [level, setLevel] = useState<SupportLogLevel | ''>('');
  const [source, setSource] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [live, setLive] = useState(true);
  const [offset, setOffset] = useState(0);
  const debounced = useDebounced(search, () => setOffset(0));
  const log = useQuery({
    ...trpc.supportLog.list.queryOptions({
      search: debounced || undefined,
      level: level || undefined,
      source: source || undefined,
      from: utc(from),
      to: utc(to, 59.999),
      offset,
      limit: PAGE,
    }),
    placeholderData: keepPreviousData,
    refetchInterval: live ? 2_000 : false,
  });
  const sources = useQuery({ ...trpc.supportLog.sources.queryOptions(), refetchInterval: 10_000 });
  const total = log.data?.total ?? 0;
  const filtered = Boolean(debounced || level || source || from || to);
  return (
    <section>
      <h1>Support log</h1>
      <div className="toolbar">
        <label htmlFor="support-log-search">Search</label>
        <input id="support-log-search" type="search" placeholder="Module or message" value={search} onChange={(e) => setSearch(e.target.value)} />
        <label htmlFor="support-log-level">Level</label>
        <select
          id="support-log-level"
          value={level}
          onChange={(e) => {
            setLevel(e.target.value as SupportLogLevel | '');
            setOffset(0);
          }}
        >
          <option value="">All levels</option>
          {SUPPORT_LOG_LEVELS.slice(1).map((l) => (
            <option key={l} value={l}>
              {LEVEL_LABELS[l]} and above
            </option>
          ))}
        </select>
        <label htmlFor="support-log-source">Source</label>
        <select
          id="support-log-source"
          value={source}
          onChange={(e) => {
            setSource(e.target.value);
            setOffset(0);
          }}
        >
          <option value="">All sources</option>
          {sources.data?.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor="support-log-from">From (UTC)</label>
        <input
          id="support-log-from"
          type="datetime-local"
          value={from}
          onChange={(e) => {
            setFrom(e.target.value);
            setOffset(0);
          }}
        />
        <label htmlFor="support-log-to">To (UTC)</label>
        <input
          id="support-log-to"
          type="datetime-local"
          value={to}
          onChange={(e) => {
            setTo(e.target.value);
            setOffset(0);
          }}
        />
        <label>
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live
        </label>
      </div>
      {log.error && <p role="alert">{errorMessage(log.error)}</p>}
      <table>
        <thead>
          <tr>
            <th>Time (UTC)</th>
            <th>Level</th>
            <th>Source</th>
            <th>Module</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {log.data?.items.map((e) => (
            <tr key={e.seq} data-testid="support-log-entry" data-level={e.level} data-source={e.source}>
              <td>
                <code>{supportLogTime(e.time)}</code>
              </td>
              <td>{LEVEL_LABELS[e.level]}</td>
              <td>{e.source}</td>
              <td>{e.module}</td>
              <td className="log-message">{e.message}</td>
            </tr>
          ))}
          {log.data?.items.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No entries{filtered ? ' match the filters' : ''}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager offset={offset} total={total} pageSize={PAGE} onOffset={setOffset} />
    </section>
  );
}
