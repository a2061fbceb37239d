import { useEffect, useRef } from 'react';
import { endedTitle, friendlyReason, hasDetail } from '../call/reasons.js';

interface Props {
  reason: string;
  onRejoin: () => void;
  onStart: () => void;
}

/** After the call: what happened in plain words (the guide's reason beside it), and the way back in. */
export function Ended({ reason, onRejoin, onStart }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Keyboard and screen-reader users land on what happened.
  useEffect(() => heading.current?.focus(), []);
  return (
    <main className="join ended" data-testid="ended">
      <h1 ref={heading} tabIndex={-1}>
        {endedTitle(reason)}
      </h1>
      <p role="status">
        {friendlyReason(reason)}
        {hasDetail(reason) && <small className="detail"> ({reason})</small>}
      </p>
      <div className="row">
        <button type="button" onClick={onRejoin}>
          Rejoin
        </button>
        <button type="button" className="secondary" onClick={onStart}>
          Another meeting
        </button>
      </div>
    </main>
  );
}
