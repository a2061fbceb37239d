import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { errorMessage, useTRPC } from '../trpc.js';
import { duration, historyTime, qualityClass, qualityLabel, roleLabel } from './historyFormat.js';

/** A completed conference (guide: Conference History, one service selected): its fields and every participant's call. */
export function ConferenceHistoryDetailPage() {
  const { id = '' } = useParams();
  const trpc = useTRPC();
  const q = useQuery(trpc.history.conference.queryOptions({ id }));
  if (q.isPending) return <p className="loading">Loading…</p>;
  if (q.error) return <p role="alert">{errorMessage(q.error)}</p>;
  const { conference: c, participants } = q.data;
  return (
    <section>
      <p className="crumbs">
        <Link to="/history/conferences">Conference history</Link> ›
      </p>
      <h1>{c.name}</h1>
      <dl className="facts">
        <dt>Start time</dt>
        <dd>{historyTime(c.start_time)}</dd>
        <dt>End time</dt>
        <dd>{historyTime(c.end_time)}</dd>
        <dt>Duration</dt>
        <dd data-testid="history-detail-duration">{duration(c.duration)}</dd>
        <dt>Participant count</dt>
        <dd>{c.participant_count}</dd>
        <dt>Service type</dt>
        <dd>{c.service_type}</dd>
        <dt>Service tag</dt>
        <dd>{c.tag || '—'}</dd>
        <dt>Instant message count</dt>
        <dd>{c.instant_message_count}</dd>
      </dl>
      <h2>Participants</h2>
      <table>
        <thead>
          <tr>
            <th>Participant alias</th>
            <th>Start time</th>
            <th>End time</th>
            <th>Duration</th>
            <th>Display name</th>
            <th>System location</th>
            <th>Role</th>
            <th>Call quality</th>
          </tr>
        </thead>
        <tbody>
          {participants.map((p) => (
            <tr key={p.id} data-testid="history-participant">
              <td>
                <Link to={`/history/participants/${encodeURIComponent(p.id)}`}>{p.remote_alias || p.display_name || p.id}</Link>
              </td>
              <td>{historyTime(p.start_time)}</td>
              <td>{historyTime(p.end_time)}</td>
              <td>{duration(p.duration)}</td>
              <td>{p.display_name}</td>
              <td>{p.system_location || '—'}</td>
              <td>{roleLabel(p.role)}</td>
              <td>
                <span className={qualityClass(p.call_quality)}>{qualityLabel(p.call_quality)}</span>
              </td>
            </tr>
          ))}
          {participants.length === 0 && (
            <tr>
              <td colSpan={8} className="empty">
                No participant records.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
