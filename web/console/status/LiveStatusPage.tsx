import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import type { ConferenceStatus } from '../../../shared/status/conferenceStatus.js';
import { roleLabel } from '../history/historyFormat.js';
import { useTRPC } from '../trpc.js';
import { BreakInBlocksSection } from './BreakInBlocksSection.js';
import { ConferenceActions } from './ConferenceActions.js';
import { ParticipantActions } from './ParticipantActions.js';
import { RegistrationsSection } from './RegistrationsSection.js';

/** Live conferences and participants (with the current speaker), pushed over the WebSocket as nodes report them. */
export function LiveStatusPage() {
  const trpc = useTRPC();
  const [conferences, setConferences] = useState<ConferenceStatus[] | null>(null);
  const sub = useSubscription(trpc.status.live.subscriptionOptions(undefined, { onData: (data) => setConferences(data) }));
  const total = conferences?.reduce((n, c) => n + c.participants.length, 0) ?? 0;
  return (
    <section>
      <h1>Live status</h1>
      {sub.error && <p role="alert">Live updates interrupted: {sub.error.message}</p>}
      {conferences === null ? (
        <p className="loading">Connecting…</p>
      ) : (
        <>
          <p data-testid="live-participant-count">
            {total} {total === 1 ? 'participant' : 'participants'}
          </p>
          {conferences.length === 0 && <p className="empty">No active conferences</p>}
          {conferences.map((c) => (
            <article key={c.id} className="card conference">
              <h2>
                {c.name}
                {c.stale && (
                  <>
                    {' '}
                    <span className="badge off" data-testid="live-stale" title="A node hosting it has stopped answering: what is shown may no longer be so">
                      Stale
                    </span>
                  </>
                )}
              </h2>
              <p className="meta">
                Started {new Date(c.startTime).toLocaleTimeString()} · {c.nodes.join(', ') || 'no node'}
              </p>
              <ConferenceActions conference={c} />
              <table>
                <thead>
                  <tr>
                    <th>Display name</th>
                    <th>Role</th>
                    <th>Alias dialled</th>
                    <th>Node</th>
                    <th>Connected</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {c.participants.map((p) => (
                    <tr key={p.id} data-testid="live-participant">
                      <td>
                        {p.displayName}
                        {p.id === c.activeSpeaker && (
                          <>
                            {' '}
                            <span className="badge speaker" data-testid="live-speaker" title="Most recent dominant speaker">
                              <span aria-hidden="true">🔊 </span>Current speaker
                            </span>
                          </>
                        )}
                      </td>
                      <td>{roleLabel(p.role)}</td>
                      <td>{p.alias}</td>
                      <td>
                        {p.node}
                        {p.stale && ' (unreachable)'}
                      </td>
                      <td>{new Date(p.connectTime).toLocaleTimeString()}</td>
                      <td>
                        <ParticipantActions participant={p} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </article>
          ))}
        </>
      )}
      <BreakInBlocksSection />
      <RegistrationsSection />
    </section>
  );
}
