import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { jitterColour, packetLossColour } from '../../../shared/node-protocol/mediaStatus.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { duration, historyTime, qualityClass, qualityLabel, roleLabel } from './historyFormat.js';

interface QualityWindow {
  end: string;
  quality: string;
  packet_loss: number;
  jitter: number;
}
const isWindow = (w: unknown): w is QualityWindow =>
  typeof w === 'object' && w !== null && typeof (w as QualityWindow).quality === 'string' && typeof (w as QualityWindow).packet_loss === 'number';

const num = (v: unknown) => (typeof v === 'number' ? v : null);
const show = (v: unknown) => (v === undefined || v === null || v === '' ? '—' : String(v));

/** A figure in the guide's colours (packet loss %, jitter ms), or a dash when the node did not measure it. */
function Coloured({ value, colour, unit }: { value: unknown; colour: (n: number) => string; unit: string }) {
  const n = num(value);
  return n === null ? <>—</> : <span className={`figure ${colour(n)}`}>{`${n}${unit}`}</span>;
}

/** A participant's completed call (guide: Participant History, one alias selected): its fields, call quality over the call and media streams. */
export function ParticipantHistoryDetailPage() {
  const { id = '' } = useParams();
  const trpc = useTRPC();
  const q = useQuery(trpc.history.participant.queryOptions({ id }));
  if (q.isPending) return <p className="loading">Loading…</p>;
  if (q.error) return <p role="alert">{errorMessage(q.error)}</p>;
  const { participant: p, mediaStreams } = q.data;
  const windows = (p.historic_call_quality ?? []).filter(isWindow);
  const goodShare = windows.length ? Math.round((100 * windows.filter((w) => w.quality === '1_good' || w.quality === '2_ok').length) / windows.length) : null;
  const conferenceId = p.conference.split('/').at(-2) ?? '';
  const facts: [string, React.ReactNode][] = [
    ['Service name', <Link to={`/history/conferences/${encodeURIComponent(conferenceId)}`}>{p.conference_name}</Link>],
    [
      'Call quality',
      <span className={qualityClass(p.call_quality)} data-testid="history-call-quality">
        {qualityLabel(p.call_quality)}
      </span>,
    ],
    ['Start time', historyTime(p.start_time)],
    ['End time', historyTime(p.end_time)],
    ['Duration', duration(p.duration)],
    ['Display name', p.display_name],
    ['Conference alias', show(p.local_alias)],
    ['System location', show(p.system_location)],
    ['Signaling node', show(p.signalling_node)],
    ['Media node', show(p.media_node)],
    ['Service type', p.service_type],
    ['Protocol', p.protocol],
    ['Role', roleLabel(p.role)],
    ['Call direction', p.call_direction === 'out' ? 'Out' : 'In'],
    ['Bandwidth (kbps)', show(p.bandwidth)],
    ['Encryption', show(p.encryption)],
    ['Remote IP address', show(p.remote_address)],
    ['Disconnect reason', <span data-testid="history-disconnect-reason">{show(p.disconnect_reason)}</span>],
  ];
  return (
    <section>
      <p className="crumbs">
        <Link to="/history/participants">Participant history</Link> ›
      </p>
      <h1>{p.remote_alias || p.display_name}</h1>
      <dl className="facts">
        {facts.map(([label, value]) => (
          <div key={label} className="fact">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h2>Perceived call quality</h2>
      {windows.length === 0 ? (
        <p className="empty">Unknown: the call was shorter than one 20-second window.</p>
      ) : (
        <>
          <p className="meta">{goodShare}% of the call Good or OK (20-second windows).</p>
          <div className="quality-strip" data-testid="history-quality-windows">
            {windows.map((w) => (
              <span
                key={w.end}
                className={qualityClass(w.quality)}
                title={`${historyTime(w.end)}: ${qualityLabel(w.quality)}, packet loss ${w.packet_loss}%, jitter ${w.jitter} ms`}
              />
            ))}
          </div>
        </>
      )}
      <h2>Media streams</h2>
      <table>
        <thead>
          <tr>
            <th>Type</th>
            <th>Start time</th>
            <th>End time</th>
            <th>Rx codec</th>
            <th>Rx bitrate (kbps)</th>
            <th>Rx resolution</th>
            <th>Rx packet loss</th>
            <th>Rx jitter</th>
            <th>Tx codec</th>
            <th>Tx bitrate (kbps)</th>
            <th>Tx resolution</th>
            <th>Tx packet loss</th>
          </tr>
        </thead>
        <tbody>
          {mediaStreams.map((s) => (
            <tr key={s.id} data-testid="history-media-stream">
              <td>{s.stream_type}</td>
              <td>{historyTime(s.start_time)}</td>
              <td>{historyTime(s.end_time)}</td>
              <td>{show(s.rx_codec)}</td>
              <td>{show(s.rx_bitrate)}</td>
              <td>{show(s.rx_resolution)}</td>
              <td>
                <Coloured value={s.rx_packet_loss} colour={packetLossColour} unit="%" />
              </td>
              <td>
                <Coloured value={s.rx_jitter} colour={jitterColour} unit=" ms" />
              </td>
              <td>{show(s.tx_codec)}</td>
              <td>{show(s.tx_bitrate)}</td>
              <td>{show(s.tx_resolution)}</td>
              <td>
                <Coloured value={s.tx_packet_loss} colour={packetLossColour} unit="%" />
              </td>
            </tr>
          ))}
          {mediaStreams.length === 0 && (
            <tr>
              <td colSpan={12} className="empty">
                No media streams.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
