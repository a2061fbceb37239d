import { useQuery } from '@tanstack/react-query';
import { allows } from '../../../shared/admin/permissions.js';
import { useTRPC } from '../trpc.js';

/** Conference and participant actions need "May modify conference status"; others see status only. */
export function useMayCommand(): boolean {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  return allows(me.data?.permissions ?? [], 'status', 'modify');
}
