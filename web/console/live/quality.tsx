import { callQualityColour, type CallQuality } from '../../../shared/node-protocol/mediaStatus.js';
import { qualityLabel } from '../history/historyFormat.js';

/** A call quality badge in the guide's colours (green Good/OK, red Bad/Terrible, grey Unknown). */
export function QualityBadge({ quality }: { quality: CallQuality | null }) {
  if (quality === null) return <span className="quality grey">Not measured yet</span>;
  return (
    <span className={`quality ${callQualityColour(quality)}`} data-testid="call-quality">
      {qualityLabel(quality)}
    </span>
  );
}

export const kbps = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${Math.round(n)} kbps`);
