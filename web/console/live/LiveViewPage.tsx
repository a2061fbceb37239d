import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState } from 'react';
import { Link, Navigate } from 'react-router-dom';
import { allows } from '../../../shared/admin/permissions.js';
import type { ConferenceStatus } from '../../../shared/status/conferenceStatus.js';
import { TIME_SERIES_RANGES, type LiveCounters, type TimeSeriesPoint, type TimeSeriesRange } from '../../../shared/status/liveView.js';
import { ConferenceActions } from '../status/ConferenceActions.js';
import { useTRPC } from '../trpc.js';
import { LiveChart } from './LiveChart.js';
import './live.css';
import { addSample, lineOption, namesIn, RANGES } from './timeSeries.js';

const percent = (n: number | null) => (n === null ? '—' : `${Math.round(n)} %`);
const PROTOCOL_LABELS: Record<string, string> = { webrtc: 'WebRTC', sip: 'SIP', api: 'API' };

/** The console's home page: live counters and graphs of the platform, and the live conferences to drill into. */
export function LiveViewPage() {
  const trpc = useTRPC();
  const [counters, setCounters] = useState<LiveCounters | null>(null);
  const [conferences, setConferences] = useState<ConferenceStatus[] | null>(null);
  const me = useQuery(trpc.auth.me.queryOptions());
  const mayView = allows(me.data?.permissions ?? [], 'status', 'view');
  const countersSub = useSubscription(trpc.status.liveCounters.subscriptionOptions(undefined, { enabled: mayView, onData: setCounters }));
  useSubscription(trpc.status.live.subscriptionOptions(undefined, { enabled: mayView, onData: setConferences }));
  // The home page of an administrator who may not view status is the first configuration page.
  if (me.data && !mayView) return <Navigate to="/vmrs" replace />;

  return (
    <section>
      <h1>Live view</h1>
      {countersSub.error && <p role="alert">Live updates interrupted: {countersSub.error.message}</p>}
      {counters === null ? <p className="loading">Connecting…</p> : <Counters counters={counters} />}
      {mayView && <Graphs />}
      <ConferenceList conferences={conferences} />
    </section>
  );
}

function Counters({ counters }: { counters: LiveCounters }) {
  const protocols = Object.entries(counters.byProtocol).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <dl className="card counters" aria-label="Platform counters">
        <div>
          <dt>Conferences</dt>
          <dd data-testid="live-conferences">{counters.conferences}</dd>
        </div>
        <div>
          <dt>Participants</dt>
          <dd data-testid="live-participants">{counters.participants}</dd>
        </div>
        <div>
          <dt>Hosts / Guests</dt>
          <dd data-testid="live-roles">
            {counters.byRole.chair} / {counters.byRole.guest}
          </dd>
        </div>
        {counters.byRole.unknown > 0 && (
          <div>
            <dt>At PIN entry</dt>
            <dd data-testid="live-at-pin">{counters.byRole.unknown}</dd>
          </div>
        )}
        {protocols.map(([protocol, n]) => (
          <div key={protocol}>
            <dt>{PROTOCOL_LABELS[protocol] ?? protocol}</dt>
            <dd data-testid={`live-protocol-${protocol}`}>{n}</dd>
          </div>
        ))}
        <div>
          <dt>Nodes up / down</dt>
          <dd data-testid="live-nodes">
            {counters.nodes.up} / {counters.nodes.down}
          </dd>
        </div>
      </dl>
      <div className="card">
        <table>
          <caption>Media load per location</caption>
          <thead>
            <tr>
              <th scope="col">Location</th>
              <th scope="col">Nodes up / down</th>
              <th scope="col">Conferences</th>
              <th scope="col">Participants</th>
              <th scope="col">Media load</th>
            </tr>
          </thead>
          <tbody>
            {counters.locations.map((l) => (
              <tr key={l.name} data-testid="live-location">
                <th scope="row">{l.name}</th>
                <td>
                  {l.nodesUp} / {l.nodesDown}
                </td>
                <td>{l.conferences}</td>
                <td>{l.participants}</td>
                <td>
                  <meter min={0} max={100} value={l.mediaLoad} aria-label={`${l.name} media load`} /> {percent(l.mediaLoad)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <table>
          <caption>Media load per node</caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Location</th>
              <th scope="col">Status</th>
              <th scope="col">Media load</th>
              <th scope="col">CPU</th>
            </tr>
          </thead>
          <tbody>
            {counters.nodeLoads.map((n) => (
              <tr key={n.id} data-testid="live-node">
                <th scope="row">{n.name}</th>
                <td>{n.location}</td>
                <td>
                  <span className={`badge ${n.up ? 'ok' : 'off'}`}>{n.up ? (n.maintenanceMode ? 'Maintenance mode' : 'Up') : 'Down'}</span>
                </td>
                <td>
                  {n.mediaLoad !== null && <meter min={0} max={100} value={n.mediaLoad} aria-label={`${n.name} media load`} />} {percent(n.mediaLoad)}
                </td>
                <td>{percent(n.cpuPercent)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The graphs over the chosen range: the range's points once, then each new 2-s sample as it is taken. */
function Graphs() {
  const trpc = useTRPC();
  const [range, setRange] = useState<TimeSeriesRange>('hour');
  const initial = useQuery({ ...trpc.status.timeSeries.queryOptions({ range }), refetchOnWindowFocus: false });
  const points = useMemo(() => initial.data ?? [], [initial.data]);

  const locations = useMemo(() => namesIn(points, 'locations'), [points]);
  const nodes = useMemo(() => namesIn(points, 'nodes'), [points]);
  const participants = useMemo(
    () =>
      lineOption(
        points,
        [
          { name: 'All locations', values: (p) => p.participants },
          ...locations.map((l) => ({ name: l, values: (p: TimeSeriesPoint) => p.locations[l]?.participants })),
        ],
        '',
      ),
    [points, locations],
  );
  const conferences = useMemo(
    () =>
      lineOption(
        points,
        [
          { name: 'All locations', values: (p) => p.conferences },
          ...locations.map((l) => ({ name: l, values: (p: TimeSeriesPoint) => p.locations[l]?.conferences })),
        ],
        '',
      ),
    [points, locations],
  );
  const load = useMemo(
    () =>
      lineOption(
        points,
        nodes.map((n) => ({ name: n, values: (p: TimeSeriesPoint) => p.nodes[n] })),
        ' %',
      ),
    [points, nodes],
  );
  const loss = useMemo(
    () =>
      lineOption(
        points,
        [
          { name: 'All locations', values: (p) => p.packetLoss },
          ...locations.map((l) => ({ name: l, values: (p: TimeSeriesPoint) => p.locations[l]?.packetLoss })),
        ],
        ' %',
      ),
    [points, locations],
  );
  const last = points.at(-1);

  return (
    <div className="card">
      <fieldset className="range-picker">
        <legend>Range</legend>
        {TIME_SERIES_RANGES.map((r) => (
          <label key={r}>
            <input type="radio" name="live-range" value={r} checked={range === r} onChange={() => setRange(r)} /> {RANGES[r].label}
          </label>
        ))}
      </fieldset>
      <SampleFeed key={range} range={range} />
      {initial.error && <p role="alert">Could not load the graphs: {initial.error.message}</p>}
      <div className="live-graphs">
        <figure>
          <figcaption>
            Participants <span data-testid="graph-participants-latest">{last ? `(now ${last.participants})` : ''}</span>
          </figcaption>
          <LiveChart option={participants} label="Participants over time, per location" testId="graph-participants" />
        </figure>
        <figure>
          <figcaption>
            Conferences <span data-testid="graph-conferences-latest">{last ? `(now ${last.conferences})` : ''}</span>
          </figcaption>
          <LiveChart option={conferences} label="Conferences over time, per location" testId="graph-conferences" />
        </figure>
        <figure>
          <figcaption>Media load per node</figcaption>
          <LiveChart option={load} label="Media load per node over time, percent" testId="graph-media-load" />
        </figure>
        <figure>
          <figcaption>Packet loss</figcaption>
          <LiveChart option={loss} label="Packet loss over time, percent, per location" testId="graph-packet-loss" />
        </figure>
      </div>
    </div>
  );
}

/** Each new 2-s sample joins the shown range's points in the query cache; remounted on a change of range. */
function SampleFeed({ range }: { range: TimeSeriesRange }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [counts] = useState(() => new Map<number, number>());
  useSubscription(
    trpc.status.timeSeriesLive.subscriptionOptions(undefined, {
      onData: (sample) => {
        if (sample) qc.setQueryData(trpc.status.timeSeries.queryKey({ range }), (ps) => (ps ? addSample(ps, sample, range, counts) : ps));
      },
    }),
  );
  return null;
}

function ConferenceList({ conferences }: { conferences: ConferenceStatus[] | null }) {
  if (conferences === null) return null;
  return (
    <div className="card">
      <h2>Conferences</h2>
      {conferences.length === 0 ? (
        <p className="empty">No active conferences</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Conference</th>
              <th scope="col">Participants</th>
              <th scope="col">Nodes</th>
              <th scope="col">Started</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {conferences.map((c) => (
              <tr key={c.id} data-testid="live-conference">
                <th scope="row">
                  <Link to={`/live/conferences/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                  {c.stale && (
                    <>
                      {' '}
                      <span className="badge off" title="A node hosting it has stopped answering: what is shown may no longer be so">
                        Stale
                      </span>
                    </>
                  )}
                </th>
                <td>{c.participants.length}</td>
                <td>{c.nodes.join(', ')}</td>
                <td>{new Date(c.startTime).toLocaleTimeString()}</td>
                <td>
                  <ConferenceActions conference={c} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
