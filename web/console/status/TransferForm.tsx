import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage, useTRPC } from '../trpc.js';

/**
 * Transfer a participant to another service (guide: participant transfer): the alias, the role
 * they get there, and its PIN where that role needs one. A failed transfer disconnects them.
 */
export function TransferForm({ participantId, displayName, onDone }: { participantId: string; displayName: string; onDone: () => void }) {
  const trpc = useTRPC();
  const transfer = useMutation(trpc.command.transfer.mutationOptions({ onSuccess: onDone }));
  const [alias, setAlias] = useState('');
  const [role, setRole] = useState<'guest' | 'chair'>('guest');
  const [pin, setPin] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    transfer.mutate({ participantId, conferenceAlias: alias, role, ...(pin ? { pin } : {}) });
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label={`Transfer ${displayName}`} style={{ margin: 0 }}>
      <input aria-label="Alias to transfer to" placeholder="Alias" value={alias} onChange={(e) => setAlias(e.target.value)} style={{ width: 160 }} />
      <select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value as 'guest' | 'chair')}>
        <option value="guest">Guest</option>
        <option value="chair">Host</option>
      </select>
      <input aria-label="PIN" placeholder="PIN" value={pin} onChange={(e) => setPin(e.target.value)} style={{ width: 80 }} />
      <button type="submit" disabled={transfer.isPending || alias.trim() === ''}>
        Transfer
      </button>
      <button type="button" className="link" onClick={onDone}>
        Cancel
      </button>
      {transfer.error && <span role="alert">{errorMessage(transfer.error)}</span>}
    </form>
  );
}
