import { useState, type FormEvent } from 'react';

interface Props {
  hostPin: boolean;
  guestPin: boolean;
  message?: string;
  joining: boolean;
  onSubmit: (pin: string) => void;
  onCancel: () => void;
}

/** The PIN of a protected meeting (3 attempts, the guide §20.3); a Guest may leave it blank when only Hosts have one. */
export function PinEntry({ hostPin, guestPin, message, joining, onSubmit, onCancel }: Props) {
  const [pin, setPin] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(pin.trim() || 'none');
    setPin('');
  };
  return (
    <main className="join">
      <h1>Join a meeting</h1>
      <form onSubmit={submit}>
        <p>
          This meeting is protected by a PIN.
          {hostPin && !guestPin ? ' Guests may leave it blank.' : ''}
        </p>
        <label>
          PIN
          <input autoFocus inputMode="numeric" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} />
        </label>
        {message && <p role="alert">{message}</p>}
        <div className="row">
          <button type="submit" disabled={joining}>
            {joining ? 'Joining…' : 'Join'}
          </button>
          <button type="button" className="secondary" onClick={onCancel}>
            Back
          </button>
        </div>
      </form>
    </main>
  );
}
