import { useEffect, useState } from 'react';
import { participantStatistics, type CallStream, type ParticipantStatistics } from '../../../shared/client-api/conference.js';
import { jitterColour, packetLossColour } from '../../../shared/node-protocol/mediaStatus.js';
import type { ClientApi } from '../client/ClientApi.js';

/** How often the figures are fetched while the panel is open (the node measures every 5 s). */
const POLL_MS = 2_000;

const QUALITY_LABEL: Record<ParticipantStatistics['call_quality'], string> = {
  '0_unknown': 'Unknown',
  '1_good': 'Good',
  '2_ok': 'OK',
  '3_bad': 'Bad',
  '4_terrible': 'Terrible',
};

/**
 * Call statistics as the conferencing node measures them (client API `participants/{me}/statistics`):
 * the guide's call quality with its recent 20-second windows, then per stream what this device
 * receives and sends. Fetched only while the panel is open.
 */
export function CallStatisticsPanel({ api, selfUuid }: { api: ClientApi; selfUuid: string }) {
  const [open, setOpen] = useState(false);
  const [stats, setStats] = useState<ParticipantStatistics | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!open) return;
    let stopped = false;
    const load = () =>
      api.participantGet(selfUuid, 'statistics').then(
        (r) => {
          if (stopped) return;
          const parsed = participantStatistics.safeParse(r);
          setStats(parsed.success ? parsed.data : null);
          setError(parsed.success ? '' : 'The statistics could not be read');
        },
        (err: unknown) => !stopped && setError(err instanceof Error ? `Statistics are not available: ${err.message}` : 'Statistics are not available'),
      );
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [open, api, selfUuid]);

  return (
    <details className="call-stats" data-testid="call-statistics" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Call statistics</summary>
      {error && <p className="hint">{error}</p>}
      {stats && (
        <>
          <p>
            Call quality:{' '}
            <strong data-testid="call-quality" className={`quality q${stats.call_quality.slice(0, 1)}`}>
              {QUALITY_LABEL[stats.call_quality]}
            </strong>
          </p>
          <ol className="quality-windows" aria-label="Call quality, last 20-second windows">
            {stats.quality_windows.map((w) => (
              <li
                key={w.end}
                className={`q${w.quality.slice(0, 1)}`}
                title={`${new Date(w.end).toLocaleTimeString()}: ${QUALITY_LABEL[w.quality]}, ${w.packet_loss} % lost, ${w.jitter} ms jitter`}
              />
            ))}
          </ol>
          <table>
            <thead>
              <tr>
                <th scope="col">Stream</th>
                <th scope="col">Codec</th>
                <th scope="col">Resolution</th>
                <th scope="col">kbps</th>
                <th scope="col">Loss %</th>
                <th scope="col">Jitter ms</th>
              </tr>
            </thead>
            <tbody>
              {(['audio', 'video', 'presentation'] as const).flatMap((type) => {
                const s = stats.media[type];
                return s ? [row(type, 'in', s, 'rx'), row(type, 'out', s, 'tx')] : [];
              })}
            </tbody>
          </table>
        </>
      )}
    </details>
  );
}

/** One direction of a stream, from this device's side (rx: what it receives). */
function row(type: string, label: string, s: CallStream, dir: 'rx' | 'tx') {
  const bitrate = s[`${dir}_bitrate`];
  if (bitrate === undefined) return null;
  const loss = s[`${dir}_windowed_packet_loss`];
  const jitter = dir === 'rx' ? s.rx_jitter : s.tx_rb_jitter;
  const fps = s[`${dir}_fps`];
  return (
    <tr key={`${type}-${dir}`} data-testid={`stats-${type}-${dir}`}>
      <th scope="row">
        {type} {label}
      </th>
      <td>{s[`${dir}_codec`] ?? '–'}</td>
      <td>{s[`${dir}_resolution`] ? `${s[`${dir}_resolution`]}${fps !== undefined ? ` @ ${fps}` : ''}` : '–'}</td>
      <td data-testid={`stats-${type}-${dir}-bitrate`}>{Math.round(bitrate)}</td>
      <td className={loss !== undefined ? packetLossColour(loss) : undefined}>{loss ?? '–'}</td>
      <td className={jitter !== undefined ? jitterColour(jitter) : undefined}>{jitter ?? '–'}</td>
    </tr>
  );
}
