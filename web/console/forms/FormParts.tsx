import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

/**
 * A set of checkboxes for a list-valued field (roles of an account, permissions of a role); the
 * value keeps the options' order. The error, if any, sits under the set.
 */
export function CheckboxSet<T extends string | number>({
  legend,
  className,
  idPrefix,
  options,
  value,
  onChange,
  error,
}: {
  legend: string;
  className: string;
  idPrefix: string;
  options: readonly { value: T; label: string }[];
  value: readonly T[];
  onChange: (next: T[]) => void;
  error?: string;
}) {
  const chosen = new Set(value);
  const toggle = (v: T, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(v);
    else next.delete(v);
    onChange(options.map((o) => o.value).filter((x) => next.has(x)));
  };
  return (
    <fieldset className={className}>
      <legend>{legend}</legend>
      {options.map((o) => (
        <div key={String(o.value)} className="checkbox-row">
          <input id={`${idPrefix}-${o.value}`} type="checkbox" checked={chosen.has(o.value)} onChange={(ev) => toggle(o.value, ev.target.checked)} />
          <label htmlFor={`${idPrefix}-${o.value}`}>{o.label}</label>
        </div>
      ))}
      {error && (
        <span role="alert" className="field-error">
          {error}
        </span>
      )}
    </fieldset>
  );
}

/** The foot of an add/edit form: its form-wide error, Save (when the administrator may change it) and the way back. */
export function FormFooter({
  rootError,
  canSave,
  pending,
  backTo,
  saveLabel = 'Save',
  children,
}: {
  rootError?: string;
  canSave: boolean;
  pending: boolean;
  backTo?: string;
  saveLabel?: string;
  /** More buttons beside Save (e.g. Cancel, Close). */
  children?: ReactNode;
}) {
  return (
    <>
      {rootError && (
        <p role="alert" className="form-error">
          {rootError}
        </p>
      )}
      <div className="actions">
        {canSave && (
          <button type="submit" disabled={pending}>
            {saveLabel}
          </button>
        )}
        {children}
        {backTo && <Link to={backTo}>{canSave ? 'Cancel' : 'Back'}</Link>}
      </div>
    </>
  );
}
