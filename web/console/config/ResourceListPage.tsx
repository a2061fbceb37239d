import { keepPreviousData, useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { allows } from '../../../shared/admin/permissions.js';
import { isWriteOnly, type FieldSpec } from '../../../shared/config/field.js';
import { nameFieldOf, type ResourceDef } from '../../../shared/config/resource.js';
import { Pager, useDebounced } from '../forms/Pager.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { AccessDenied, isForbidden, useMe } from './access.js';

const PAGE = 20;

/** A cell's text: choices by label, booleans as Yes/No, secrets only as whether they are set. */
export function cellText(f: FieldSpec | undefined, v: unknown, names: Record<string, Record<number, string>>): string {
  if (!f) return Array.isArray(v) ? v.map((a) => (a as { alias?: string }).alias ?? String(a)).join(', ') : String(v ?? '');
  switch (f.type) {
    case 'bool':
      return v ? 'Yes' : 'No';
    case 'choice':
      return v == null ? (f.nullLabel ?? '') : (f.choices.find(([c]) => c === v)?.[1] ?? String(v));
    case 'text':
      // Write-only secrets never reach the console; PINs show only whether they are set.
      return isWriteOnly(f) ? '' : f.secret ? (v ? 'Yes' : 'No') : String(v ?? '');
    case 'int':
      return v == null ? (f.help?.startsWith('Blank: unlimited') ? 'Unlimited' : '') : String(v);
    case 'ref':
      return v == null ? (f.nullLabel ?? '') : (names[f.resource]?.[v as number] ?? `#${String(v)}`);
    case 'refList':
      return ((v as number[]) ?? []).map((id) => names[f.resource]?.[id] ?? `#${id}`).join(', ');
    case 'list':
      return ((v as string[]) ?? []).join(', ');
  }
}

/** The list page of any configuration resource: server-side search, sort by name and paging. */
export function ResourceListPage({ def }: { def: ResourceDef }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const me = useMe();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [desc, setDesc] = useState(false);
  const debounced = useDebounced(search, () => setOffset(0));
  const nameKey = nameFieldOf(def);
  const sortKey = def.orderBy?.replace(/^-/, '') ?? nameKey;
  const list = useQuery({
    ...trpc.config.list.queryOptions({ resource: def.name, search: debounced || undefined, offset, limit: PAGE, orderBy: desc ? `-${sortKey}` : sortKey }),
    placeholderData: keepPreviousData,
  });
  // Names of referenced objects shown in the list's columns.
  const refColumns = def.listColumns
    .map((c) => def.fields[c])
    .filter((f): f is Extract<FieldSpec, { type: 'ref' | 'refList' }> => f?.type === 'ref' || f?.type === 'refList');
  const refTargets = [...new Set(refColumns.map((f) => f.resource))];
  const refQueries = useQueries({ queries: refTargets.map((target) => trpc.config.options.queryOptions({ resource: target })) });
  const names: Record<string, Record<number, string>> = {};
  refTargets.forEach((target, i) => {
    names[target] = Object.fromEntries((refQueries[i]?.data ?? []).map((o) => [o.id, o.name]));
  });
  const remove = useMutation(trpc.config.delete.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.config.list.pathKey() }) }));
  const canAdd = !!me && allows(me.permissions, def.permission, 'add_remove') && !def.noCreate;

  if (isForbidden(list.error)) return <AccessDenied />;
  const total = list.data?.total ?? 0;
  return (
    <section>
      <div className="page-head">
        <h1>{def.plural}</h1>
        {canAdd && (
          <Link to={`/${def.route}/new`} className="button">
            Add {def.label}
          </Link>
        )}
      </div>
      {def.intro && <p className="meta">{def.intro}</p>}
      <div className="toolbar">
        <label htmlFor="search">Search</label>
        <input id="search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      <table>
        <thead>
          <tr>
            {def.listColumns.map((c, i) => (
              <th key={c}>
                {i === 0 ? (
                  <button type="button" className="link" onClick={() => setDesc(!desc)} aria-label={`Sort by ${def.fields[sortKey]?.label ?? c}`}>
                    {def.fields[c]?.label ?? 'Aliases'} {desc ? '▼' : '▲'}
                  </button>
                ) : (
                  (def.fields[c]?.label ?? (c === 'aliases' ? 'Aliases' : c))
                )}
              </th>
            ))}
            {canAdd && <th />}
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((o) => (
            <tr key={o.id}>
              {def.listColumns.map((c, i) => (
                <td key={c}>
                  {(def.listColumns.includes(nameKey) ? c === nameKey : i === 0) ? (
                    <Link to={`/${def.route}/${o.id}`}>{cellText(def.fields[c], o[c], names) || '(unnamed)'}</Link>
                  ) : (
                    cellText(def.fields[c], o[c], names)
                  )}
                </td>
              ))}
              {canAdd && (
                <td>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => window.confirm(`Delete "${String(o[nameKey] ?? o.id)}"?`) && remove.mutate({ resource: def.name, id: o.id })}
                  >
                    Delete
                  </button>
                </td>
              )}
            </tr>
          ))}
          {list.data && list.data.items.length === 0 && (
            <tr>
              <td colSpan={def.listColumns.length + 1} className="empty">
                No {def.plural}
                {debounced ? ' match the search' : ' yet'}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Pager offset={offset} total={total} pageSize={PAGE} onOffset={setOffset} />
    </section>
  );
}
