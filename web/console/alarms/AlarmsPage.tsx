import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { allows } from '../../../shared/admin/permissions.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { LEVEL_LABEL, useActiveAlarms } from './useActiveAlarms.js';
import './alarms.css';

const PAGE = 50;
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '');

/** Status > Alarms (active, live, with acknowledge) and History & Logs > Alarm History (every alarm with when it was lowered). */
export function AlarmsPage() {
  const trpc = useTRPC();
  const { alarms, error } = useActiveAlarms();
  const me = useQuery(trpc.auth.me.queryOptions());
  const canAcknowledge = allows(me.data?.permissions ?? [], 'status', 'modify');
  const acknowledge = useMutation(trpc.alarm.acknowledge.mutationOptions());
  return (
    <section>
      <h1>Alarms</h1>
      {error && <p role="alert">Alarms unavailable: {error}</p>}
      {acknowledge.error && <p role="alert">{errorMessage(acknowledge.error)}</p>}
      {alarms === null ? (
        <p className="loading">Connecting…</p>
      ) : alarms.length === 0 ? (
        <p className="empty">No active alarms</p>
      ) : (
        <table aria-label="Active alarms">
          <thead>
            <tr>
              <th>Level</th>
              <th>Name</th>
              <th>Node</th>
              <th>Instance</th>
              <th>Details</th>
              <th>Time raised</th>
              <th>Acknowledged</th>
            </tr>
          </thead>
          <tbody>
            {alarms.map((a) => (
              <tr key={a.id} data-testid="active-alarm">
                <td className={`alarm-level ${a.level}`}>{LEVEL_LABEL[a.level] ?? a.level}</td>
                <td>
                  {a.help ? (
                    <details>
                      <summary>{a.name}</summary>
                      <p>{a.help.cause}</p>
                      <p>Suggested resolution: {a.help.resolution}</p>
                    </details>
                  ) : (
                    a.name
                  )}
                </td>
                <td>{a.node}</td>
                <td>{a.instance}</td>
                <td>{a.details}</td>
                <td>{when(a.timeRaised)}</td>
                <td>
                  {a.acknowledged ? (
                    'Yes'
                  ) : canAcknowledge ? (
                    <button type="button" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate({ id: a.id })}>
                      Acknowledge
                    </button>
                  ) : (
                    'No'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <AlarmHistory />
    </section>
  );
}

/** History & Logs > Alarm History: every alarm, newest first, with when it was lowered. */
function AlarmHistory() {
  const trpc = useTRPC();
  const [level, setLevel] = useState<'' | 'critical' | 'error' | 'warning'>('');
  const [name, setName] = useState('');
  const [offset, setOffset] = useState(0);
  const history = useQuery({
    ...trpc.alarm.history.queryOptions({ limit: PAGE, offset, level: level || undefined, name: name || undefined }),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
  return (
    <>
      <h2 id="alarm-history">Alarm history</h2>
      <div className="toolbar">
        <label>
          Level{' '}
          <select
            value={level}
            onChange={(e) => {
              setLevel(e.target.value as typeof level);
              setOffset(0);
            }}
          >
            <option value="">All</option>
            <option value="critical">Critical</option>
            <option value="error">Error</option>
            <option value="warning">Warning</option>
          </select>
        </label>{' '}
        <label>
          Name{' '}
          <input
            type="search"
            value={name}
            maxLength={250}
            onChange={(e) => {
              setName(e.target.value);
              setOffset(0);
            }}
          />
        </label>
      </div>
      {history.error && <p role="alert">{errorMessage(history.error)}</p>}
      <table aria-labelledby="alarm-history">
        <thead>
          <tr>
            <th>Level</th>
            <th>Name</th>
            <th>Node</th>
            <th>Instance</th>
            <th>Details</th>
            <th>Time raised</th>
            <th>Time lowered</th>
          </tr>
        </thead>
        <tbody>
          {history.data?.alarms.map((a) => (
            <tr key={a.id} data-testid="alarm-history-entry">
              <td className={`alarm-level ${a.level}`}>{LEVEL_LABEL[a.level] ?? a.level}</td>
              <td>{a.name}</td>
              <td>{a.node}</td>
              <td>{a.instance}</td>
              <td>{a.details}</td>
              <td>{when(a.timeRaised)}</td>
              <td>{a.timeLowered ? when(a.timeLowered) : 'Active'}</td>
            </tr>
          ))}
          {history.data?.alarms.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No alarms.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {history.data && history.data.total > PAGE && (
        <p>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>{' '}
          {offset + 1}–{Math.min(offset + PAGE, history.data.total)} of {history.data.total}{' '}
          <button type="button" disabled={offset + PAGE >= history.data.total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </p>
      )}
    </>
  );
}
