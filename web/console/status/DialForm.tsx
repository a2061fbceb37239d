import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage, useTRPC } from '../trpc.js';

/**
 * Dial out to a participant from a live conference (guide: Dial out to participant): the
 * participant's alias (a SIP URI or a registered alias), the role it joins with, an optional display
 * name and DTMF sequence. The call comes from the conference's first alias; it rings in the list
 * below and joins when answered.
 */
export function DialForm({ conferenceName, onDone }: { conferenceName: string; onDone: () => void }) {
  const trpc = useTRPC();
  const dial = useMutation(trpc.command.dial.mutationOptions({ onSuccess: onDone }));
  const [destination, setDestination] = useState('');
  const [role, setRole] = useState<'guest' | 'chair'>('guest');
  const [displayName, setDisplayName] = useState('');
  const [dtmf, setDtmf] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    dial.mutate({ conferenceName, destination, role, ...(displayName ? { displayName } : {}), ...(dtmf ? { dtmfSequence: dtmf } : {}) });
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label={`Dial out from ${conferenceName}`} style={{ margin: 0 }}>
      <input
        aria-label="Participant alias"
        placeholder="Participant alias (e.g. alice@example.com)"
        value={destination}
        onChange={(e) => setDestination(e.target.value)}
        style={{ width: 240 }}
      />
      <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value as 'guest' | 'chair')}>
        <option value="guest">Guest</option>
        <option value="chair">Host</option>
      </select>
      <input
        aria-label="Participant display name"
        placeholder="Display name"
        value={displayName}
        onChange={(e) => setDisplayName(e.target.value)}
        style={{ width: 140 }}
      />
      <input aria-label="DTMF sequence" placeholder="DTMF" value={dtmf} onChange={(e) => setDtmf(e.target.value)} style={{ width: 90 }} />
      <button type="submit" disabled={dial.isPending || destination.trim() === ''}>
        Dial
      </button>
      <button type="button" className="link" onClick={onDone}>
        Cancel
      </button>
      {dial.error && <span role="alert">{errorMessage(dial.error)}</span>}
    </form>
  );
}
