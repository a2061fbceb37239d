import { useMutation, useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { allows } from '../../../shared/admin/permissions.js';
import { errorMessage, useTRPC } from '../trpc.js';

interface Block {
  id: string;
  kind: 'service' | 'address';
  label: string;
  since: string;
  until: string;
  nodes: string[];
}

/**
 * Break-in blocks in force on the nodes (guide: PIN brute force and VOIP scanner resistance): a
 * service refusing every join, or a quarantined caller address. An administrator may lift one.
 */
export function BreakInBlocksSection() {
  const trpc = useTRPC();
  const [blocks, setBlocks] = useState<Block[] | null>(null);
  const sub = useSubscription(trpc.status.breakInBlocks.subscriptionOptions(undefined, { onData: (data) => setBlocks(data) }));
  const lift = useMutation(trpc.status.liftBreakInBlock.mutationOptions());
  // Lifting needs "May modify conference status"; others see the blocks only.
  const me = useQuery(trpc.auth.me.queryOptions());
  const canLift = allows(me.data?.permissions ?? [], 'status', 'modify');
  return (
    <section aria-labelledby="break-in-blocks">
      <h2 id="break-in-blocks">Break-in blocks</h2>
      {sub.error && <p role="alert">Break-in blocks unavailable: {sub.error.message}</p>}
      {lift.error && <p role="alert">{errorMessage(lift.error)}</p>}
      {blocks === null ? (
        <p className="loading">Connecting…</p>
      ) : blocks.length === 0 ? (
        <p className="empty">No services or addresses are blocked</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Blocked</th>
              <th>Reason</th>
              <th>Nodes</th>
              <th>Since</th>
              <th>Until</th>
              {canLift && <th />}
            </tr>
          </thead>
          <tbody>
            {blocks.map((b) => (
              <tr key={b.id} data-testid="break-in-block">
                <td>{b.kind === 'service' ? `Service: ${b.label}` : `Address: ${b.label}`}</td>
                <td>{b.kind === 'service' ? 'Too many incorrect PINs' : 'Too many attempts to join non-existent aliases'}</td>
                <td>{b.nodes.join(', ')}</td>
                <td>{new Date(b.since).toLocaleTimeString()}</td>
                <td>{new Date(b.until).toLocaleTimeString()}</td>
                {canLift && (
                  <td>
                    <button type="button" className="danger" disabled={lift.isPending} onClick={() => lift.mutate({ block_id: b.id })}>
                      Lift
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
