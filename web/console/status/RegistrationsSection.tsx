import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC } from '../trpc.js';

interface Row {
  id: number;
  alias: string;
  protocol: string;
  node: string;
  remote_address: string;
  is_natted: boolean;
  vendor?: string;
  contact: string | null;
  transport: string | null;
  expires_at: string | null;
}

/** Devices registered to the nodes (guide: registrations are visible in the status), pushed as the nodes report them. */
export function RegistrationsSection() {
  const trpc = useTRPC();
  const [rows, setRows] = useState<Row[] | null>(null);
  const sub = useSubscription(trpc.status.registrations.subscriptionOptions(undefined, { onData: (data) => setRows(data) }));
  return (
    <section aria-labelledby="registrations">
      <h2 id="registrations">Registrations</h2>
      {sub.error && <p role="alert">Registrations unavailable: {sub.error.message}</p>}
      {rows === null ? (
        <p className="loading">Connecting…</p>
      ) : rows.length === 0 ? (
        <p className="empty">No devices are registered</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Alias</th>
              <th>Contact</th>
              <th>Protocol</th>
              <th>Node</th>
              <th>Remote address</th>
              <th>Expires</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid="registration">
                <td>{r.alias}</td>
                <td>{r.contact ?? ''}</td>
                <td>
                  {r.protocol}
                  {r.transport && ` (${r.transport.toUpperCase()})`}
                </td>
                <td>{r.node}</td>
                <td>
                  {r.remote_address}
                  {r.is_natted && ' (behind NAT)'}
                </td>
                <td>{r.expires_at ? new Date(r.expires_at).toLocaleTimeString() : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
