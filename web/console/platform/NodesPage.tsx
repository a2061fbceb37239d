import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage, useTRPC } from '../trpc.js';
import { contactBadgeClass, lastContactedColour } from './lastContacted.js';
import { saveFile } from '../files/saveFile.js';
import { useNow } from './useNow.js';

type Format = 'bundle' | 'config' | 'dockerfile';

/** A node's state as the guide's node status shows it, plus its credential. */
function stateOf(n: { live: boolean; last_contacted: string | null; enrollment: string }): { label: string; className: string } {
  if (n.enrollment === 'revoked') return { label: 'Revoked', className: 'badge off' };
  if (n.live) return { label: 'Live', className: 'badge ok' };
  if (!n.last_contacted) return { label: 'Never contacted', className: 'badge off' };
  return { label: 'Unreachable', className: 'badge off' };
}

/** The downloads that deploy one node: each carries a new one-time enrollment token. */
function EnrollmentDownloads({ node, onClose }: { node: { id: number; name: string }; onClose: () => void }) {
  const trpc = useTRPC();
  const [managementUrl, setManagementUrl] = useState(window.location.origin);
  const download = useMutation(trpc.node.enrollmentDownload.mutationOptions({ onSuccess: (r) => saveFile(r.fileName, r.base64) }));
  const get = (format: Format) => download.mutate({ id: node.id, format, managementUrl });
  return (
    <section className="panel" aria-label={`Deploy ${node.name}`}>
      <h2>Deploy {node.name}</h2>
      <p>
        Run the deployment bundle&apos;s <code>start.sh</code> (or <code>install.sh</code> as root, for a systemd service) on the node&apos;s machine; it
        enrolls with a one-time token and shows here as Live. Each download carries a new token, valid for 24 hours; earlier ones stop working.
      </p>
      <label>
        Management server address, as the node reaches it
        <input value={managementUrl} onChange={(e) => setManagementUrl(e.target.value)} />
      </label>
      {download.error && <p role="alert">{errorMessage(download.error)}</p>}
      <div className="actions">
        <button type="button" disabled={download.isPending} onClick={() => get('bundle')}>
          Deployment bundle (.tar.gz)
        </button>
        <button type="button" className="secondary" disabled={download.isPending} onClick={() => get('config')}>
          Configuration file
        </button>
        <button type="button" className="secondary" disabled={download.isPending} onClick={() => get('dockerfile')}>
          Dockerfile
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}

interface NodeRowProps {
  node: {
    id: number;
    name: string;
    hostname: string;
    address: string;
    system_location: { id: number };
    live: boolean;
    last_contacted: string | null;
    enrollment: string;
    version: string;
    maintenance_mode?: boolean;
  };
  locations: { id: number; name: string }[];
  onMove: (locationId: number) => void;
  onDeploy: () => void;
  onRevoke: () => void;
  revoking: boolean;
}

function NodeRow({ node: n, locations, onMove, onDeploy, onRevoke, revoking }: NodeRowProps) {
  const state = stateOf(n);
  const now = useNow(15_000);
  const contact = lastContactedColour(n.last_contacted, now);
  return (
    <tr data-testid="node-row">
      <td>{n.name}</td>
      <td>{n.hostname}</td>
      <td>{n.address}</td>
      <td>
        <select aria-label={`System location of ${n.name}`} value={n.system_location.id} onChange={(e) => onMove(Number(e.target.value))}>
          {locations.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
      </td>
      <td>
        <span className={state.className}>{state.label}</span>
        {n.maintenance_mode && <span className="badge soon">Maintenance mode</span>}
      </td>
      <td>
        <span className={contactBadgeClass[contact]} data-contact={contact}>
          {n.last_contacted ? new Date(n.last_contacted).toLocaleString() : 'Never'}
        </span>
      </td>
      <td>{n.version}</td>
      <td>
        <button type="button" className="secondary" onClick={onDeploy}>
          Deploy…
        </button>{' '}
        {n.enrollment === 'enrolled' && (
          <button
            type="button"
            className="danger"
            disabled={revoking}
            onClick={() => {
              if (window.confirm(`Revoke ${n.name}'s credential? It is refused from now on and stops serving; a new deployment download enrolls it again.`))
                onRevoke();
            }}
          >
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

/** Conferencing nodes: their state, system location and credential; downloads to deploy one, and revocation. */
export function NodesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const nodes = useQuery({ ...trpc.node.list.queryOptions(), refetchInterval: 5_000 });
  const locations = useQuery(trpc.config.options.queryOptions({ resource: 'system_location' }));
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.node.pathKey() });
  const move = useMutation(trpc.node.setLocation.mutationOptions({ onSuccess: refresh }));
  const revoke = useMutation(trpc.node.revoke.mutationOptions({ onSuccess: refresh }));
  const enrolling = Number(params.get('enroll') ?? NaN);
  const enrollNode = nodes.data?.find((n) => n.id === enrolling);
  return (
    <section>
      <h1>Conferencing nodes</h1>
      <p>
        <Link to="/nodes/new">Add conferencing node</Link>
      </p>
      {nodes.error && <p role="alert">{errorMessage(nodes.error)}</p>}
      {move.error && <p role="alert">{errorMessage(move.error)}</p>}
      {revoke.error && <p role="alert">{errorMessage(revoke.error)}</p>}
      {enrollNode && <EnrollmentDownloads node={enrollNode} onClose={() => setParams({})} />}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Hostname</th>
            <th>Address</th>
            <th>System location</th>
            <th>State</th>
            <th>Last contacted</th>
            <th>Version</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {nodes.data?.map((n) => (
            <NodeRow
              key={n.id}
              node={n}
              locations={locations.data ?? [{ id: n.system_location.id, name: n.system_location.name }]}
              onMove={(systemLocationId) => move.mutate({ id: n.id, systemLocationId })}
              onDeploy={() => setParams({ enroll: String(n.id) })}
              onRevoke={() => revoke.mutate({ id: n.id })}
              revoking={revoke.isPending}
            />
          ))}
          {nodes.data?.length === 0 && (
            <tr>
              <td colSpan={8} className="empty">
                No conferencing node yet: add one, then deploy it with its downloads.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
