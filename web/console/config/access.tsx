import { useQuery } from '@tanstack/react-query';
import { TRPCClientError } from '@trpc/client';
import { ACCESS_DENIED } from '../../../shared/admin/permissions.js';
import { useTRPC } from '../trpc.js';

/** The signed-in administrator with their permissions (null while loading or signed out). */
export function useMe(): { username: string; permissions: string[] } | null {
  const trpc = useTRPC();
  return useQuery(trpc.auth.me.queryOptions()).data ?? null;
}

export const isForbidden = (err: unknown) => err instanceof TRPCClientError && err.data?.code === 'FORBIDDEN';

/** What a page shows when the administrator's roles do not allow it (guide: "Access denied"). */
export function AccessDenied() {
  return (
    <section>
      <h1>{ACCESS_DENIED}</h1>
      <p className="meta">Your administrator roles do not allow this page.</p>
    </section>
  );
}
