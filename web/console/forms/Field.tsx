import type { ReactNode } from 'react';

/**
 * A labelled form field with its error right beside it. The `<label>` holds only the label text
 * (so the input's accessible name is exactly the field name); `id` must be the input's id.
 */
export function Field({
  id,
  label,
  error,
  children,
  hint,
  notYetActive,
}: {
  id: string;
  label: string;
  error?: string;
  children: ReactNode;
  hint?: string;
  notYetActive?: boolean;
}) {
  return (
    <div className={error ? 'field has-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {notYetActive && <NotYetActiveBadge />}
      {hint && !error && <span className="hint">{hint}</span>}
      {error && (
        <span role="alert" className="field-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}

/** Marks a setting that is stored and served but that nothing in OpenMeet acts on yet. */
export function NotYetActiveBadge() {
  return (
    <span className="badge later" title="Stored and served by the APIs, but OpenMeet does not act on this setting yet.">
      Not acted on yet
    </span>
  );
}
