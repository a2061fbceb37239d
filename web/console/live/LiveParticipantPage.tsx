import { useSubscription } from '@trpc/tanstack-react-query';
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { jitterColour, packetLossColour, type StreamDirection } from '../../../shared/node-protocol/mediaStatus.js';
import type { ParticipantMediaView, ParticipantRowView } from '../../../shared/status/liveView.js';
import { qualityClass, qualityLabel } from '../history/historyFormat.js';
import { ParticipantActions } from '../status/ParticipantActions.js';
import { useTRPC } from '../trpc.js';
import { LiveChart } from './LiveChart.js';
import { kbps, QualityBadge } from './quality.js';
import './live.css';

const figure = (n: number | undefined, unit: string, colour?: (n: number) => string) =>
  n === undefined ? '—' : <span className={colour ? `figure ${colour(n)}` : undefined}>{`${Math.round(n * 100) / 100}${unit}`}</span>;

function DirectionCells({ d }: { d: StreamDirection | undefined }) {
  return (
    <>
      <td>{d?.codec ?? '—'}</td>
      <td>{d?.resolution ?? '—'}</td>
      <td>{d?.fps === undefined ? '—' : Math.round(d.fps)}</td>
      <td data-testid="stream-bitrate">{d ? kbps(d.bitrate) : '—'}</td>
      <td>{figure(d?.windowedPacketLoss, ' %', packetLossColour)}</td>
      <td>{figure(d?.jitter, ' ms', jitterColour)}</td>
      <td>{figure(d?.rtt, ' ms')}</td>
    </>
  );
}

/** One live participant: call quality, bandwidth, each media stream both ways, and a small graph of the last minutes. */
export function LiveParticipantPage() {
  const trpc = useTRPC();
  const params = useParams();
  const conference = params.conference ?? '';
  const participantId = params.participant ?? '';
  const [media, setMedia] = useState<ParticipantMediaView | null | undefined>(undefined);
  const [row, setRow] = useState<ParticipantRowView | null>(null);
  const sub = useSubscription(trpc.status.participantMedia.subscriptionOptions({ participantId }, { onData: setMedia }));
  useSubscription(
    trpc.status.conferenceParticipants.subscriptionOptions({ conference }, { onData: (rows) => setRow(rows.find((r) => r.id === participantId) ?? null) }),
  );

  const graph = useMemo(
    () => ({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 56, right: 48, top: 32, bottom: 28 },
      xAxis: { type: 'time' },
      yAxis: [
        { type: 'value', axisLabel: { formatter: '{value} kbps' } },
        { type: 'value', axisLabel: { formatter: '{value} %' }, min: 0 },
      ],
      series: [
        { name: 'Bandwidth in', type: 'line', showSymbol: false, data: (media?.samples ?? []).map((s) => [Date.parse(s.at), s.rxBandwidth]) },
        { name: 'Bandwidth out', type: 'line', showSymbol: false, data: (media?.samples ?? []).map((s) => [Date.parse(s.at), s.txBandwidth]) },
        { name: 'Packet loss', type: 'line', yAxisIndex: 1, showSymbol: false, data: (media?.samples ?? []).map((s) => [Date.parse(s.at), s.packetLoss]) },
      ],
    }),
    [media],
  );

  return (
    <section>
      <p>
        <Link to={`/live/conferences/${encodeURIComponent(conference)}`}>← {conference}</Link>
      </p>
      <h1>{row ? row.displayName || row.alias : 'Participant'}</h1>
      {sub.error && <p role="alert">Live updates interrupted: {sub.error.message}</p>}
      {row && <ParticipantActions participant={row} />}
      {media === undefined && <p className="loading">Connecting…</p>}
      {media === null && <p className="empty">No media measured for this participant (not connected, or not yet reported by its node).</p>}
      {media && (
        <>
          <dl className="card facts">
            <dt>Call quality</dt>
            <dd>
              <QualityBadge quality={media.callQuality} />
            </dd>
            <dt>Bandwidth in / out</dt>
            <dd data-testid="participant-bandwidth">
              {kbps(media.rxBandwidth)} / {kbps(media.txBandwidth)}
            </dd>
            <dt>Node</dt>
            <dd>{media.node}</dd>
            <dt>Measured</dt>
            <dd>{new Date(media.at).toLocaleTimeString()}</dd>
          </dl>
          {media.qualityWindows.length > 0 && (
            <div className="quality-strip" role="list" aria-label="Call quality per 20-second window">
              {media.qualityWindows.map((w) => (
                <span
                  key={w.end}
                  role="listitem"
                  className={qualityClass(w.quality)}
                  title={`${new Date(w.end).toLocaleTimeString()}: ${qualityLabel(w.quality)}`}
                >
                  <span className="visually-hidden">{qualityLabel(w.quality)}</span>
                </span>
              ))}
            </div>
          )}
          <figure className="card">
            <figcaption>Call quality over the last minutes</figcaption>
            <LiveChart option={graph} label="Bandwidth in and out, kbps, and packet loss, percent, over the last minutes" testId="graph-participant" />
          </figure>
          <div className="card">
            <table>
              <caption>Media streams</caption>
              <thead>
                <tr>
                  <th scope="col">Stream</th>
                  <th scope="col">Direction</th>
                  <th scope="col">Codec</th>
                  <th scope="col">Resolution</th>
                  <th scope="col">FPS</th>
                  <th scope="col">Bitrate</th>
                  <th scope="col">Packet loss</th>
                  <th scope="col">Jitter</th>
                  <th scope="col">Round-trip time</th>
                </tr>
              </thead>
              <tbody>
                {media.streams.flatMap((s) =>
                  (['rx', 'tx'] as const).map((dir) => (
                    <tr key={`${s.id}-${dir}`} data-testid="media-stream" data-type={s.type} data-direction={dir}>
                      <th scope="row">{s.type}</th>
                      <td>{dir === 'rx' ? 'In' : 'Out'}</td>
                      <DirectionCells d={s[dir]} />
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
