import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorMessage, useTRPC } from '../trpc.js';

/** Conferencing nodes: enrolled nodes, their system location and whether they are connected. */
export function NodesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const nodes = useQuery({ ...trpc.node.list.queryOptions(), refetchInterval: 5_000 });
  const locations = useQuery(trpc.config.options.queryOptions({ resource: 'system_location' }));
  const move = useMutation(trpc.node.setLocation.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.node.pathKey() }) }));
  return (
    <section>
      <h1>Conferencing nodes</h1>
      {nodes.error && <p role="alert">{errorMessage(nodes.error)}</p>}
      {move.error && <p role="alert">{errorMessage(move.error)}</p>}
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
          </tr>
        </thead>
        <tbody>
          {nodes.data?.map((n) => (
            <tr key={n.id} data-testid="node-row">
              <td>{n.name}</td>
              <td>{n.hostname}</td>
              <td>{n.address}</td>
              <td>
                <select
                  aria-label={`System location of ${n.name}`}
                  value={n.system_location.id}
                  onChange={(e) => move.mutate({ id: n.id, systemLocationId: Number(e.target.value) })}
                >
                  {(locations.data ?? [{ id: n.system_location.id, name: n.system_location.name }]).map((l) => (
                    <option key={l.id} value={l.id}>
                      {l.name}
                    </option>
                  ))}
                </select>
              </td>
              <td>{n.live ? <span className="badge ok">Live</span> : <span className="badge off">Not connected</span>}</td>
              <td>{n.last_contacted ? new Date(n.last_contacted).toLocaleString() : 'Never'}</td>
              <td>{n.version}</td>
            </tr>
          ))}
          {nodes.data?.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No conferencing node has enrolled yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
