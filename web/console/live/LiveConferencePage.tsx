import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { ConferenceStatus } from '../../../shared/status/conferenceStatus.js';
import type { BackplaneLinkView } from '../../../shared/status/backplaneView.js';
import type { ParticipantRowView } from '../../../shared/status/liveView.js';
import { roleLabel } from '../history/historyFormat.js';
import { ConferenceActions } from '../status/ConferenceActions.js';
import { ParticipantActions } from '../status/ParticipantActions.js';
import { useTRPC } from '../trpc.js';
import { kbps, QualityBadge } from './quality.js';

const PROTOCOL_LABELS: Record<string, string> = { webrtc: 'WebRTC', sip: 'SIP', api: 'API' };
const BACKPLANE_TYPES: Record<BackplaneLinkView['type'], string> = { local: 'Local', geographic: 'Geographic' };

/** One live conference: its participants with their call quality, bandwidth, protocol, role and location. */
export function LiveConferencePage() {
  const trpc = useTRPC();
  const name = useParams().conference ?? '';
  const [rows, setRows] = useState<ParticipantRowView[] | null>(null);
  const [conference, setConference] = useState<ConferenceStatus | null | undefined>(undefined);
  const sub = useSubscription(trpc.status.conferenceParticipants.subscriptionOptions({ conference: name }, { onData: setRows }));
  useSubscription(trpc.status.live.subscriptionOptions(undefined, { onData: (cs) => setConference(cs.find((c) => c.name === name) ?? null) }));
  // Links between the nodes holding this conference (the guide's Backplanes tab): one each way.
  const [backplanes, setBackplanes] = useState<BackplaneLinkView[]>([]);
  useSubscription(trpc.status.backplanes.subscriptionOptions({ conference: name }, { onData: setBackplanes }));

  return (
    <section>
      <p>
        <Link to="/live">← Live view</Link>
      </p>
      <h1>{name}</h1>
      {sub.error && <p role="alert">Live updates interrupted: {sub.error.message}</p>}
      {conference === null && <p className="empty">This conference is not active now.</p>}
      {conference && (
        <>
          <p className="meta">
            Started {new Date(conference.startTime).toLocaleTimeString()} · {conference.nodes.join(', ')}
          </p>
          <ConferenceActions conference={conference} />
        </>
      )}
      {rows === null ? (
        <p className="loading">Connecting…</p>
      ) : (
        <div className="card">
          <table>
            <caption>Participants</caption>
            <thead>
              <tr>
                <th scope="col">Display name</th>
                <th scope="col">Call quality</th>
                <th scope="col">Bandwidth in / out</th>
                <th scope="col">Protocol</th>
                <th scope="col">Role</th>
                <th scope="col">Location</th>
                <th scope="col">Node</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id} data-testid="live-conference-participant">
                  <th scope="row">
                    <Link to={`/live/conferences/${encodeURIComponent(name)}/participants/${encodeURIComponent(p.id)}`}>{p.displayName || p.alias}</Link>
                  </th>
                  <td>
                    <QualityBadge quality={p.callQuality} />
                  </td>
                  <td>
                    {kbps(p.rxBandwidth)} / {kbps(p.txBandwidth)}
                  </td>
                  <td>{PROTOCOL_LABELS[p.protocol] ?? p.protocol}</td>
                  <td>{roleLabel(p.role)}</td>
                  <td>{p.systemLocation ?? '—'}</td>
                  <td>
                    {p.node}
                    {p.stale && ' (unreachable)'}
                  </td>
                  <td>
                    <ParticipantActions participant={p} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {backplanes.length > 0 && (
        <div className="card">
          <table>
            <caption>Backplanes</caption>
            <thead>
              <tr>
                <th scope="col">Media node</th>
                <th scope="col">Remote media node</th>
                <th scope="col">System location</th>
                <th scope="col">Backplane type</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {backplanes.map((b) => (
                <tr key={b.id} data-testid="live-conference-backplane">
                  <th scope="row">{b.mediaNode}</th>
                  <td>{b.remoteMediaNode}</td>
                  <td>{b.systemLocation}</td>
                  <td>{BACKPLANE_TYPES[b.type]}</td>
                  <td>{new Date(b.startTime).toLocaleTimeString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
