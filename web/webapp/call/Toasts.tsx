import { useEffect } from 'react';
import type { Toast } from './callState.js';

const SHOWN_MS = 6_000;

/** Join/leave and other notices: announced politely, gone after a few seconds or when dismissed. */
export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  useEffect(() => {
    if (!toasts.length) return;
    const oldest = toasts[0]!;
    const t = window.setTimeout(() => onDismiss(oldest.id), SHOWN_MS);
    return () => window.clearTimeout(t);
  }, [toasts, onDismiss]);
  return (
    <div className="toasts" aria-live="polite" data-testid="toasts">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind}>
          <span>{t.text}</span>
          <button type="button" className="plain" aria-label="Dismiss" onClick={() => onDismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
