import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, TRPCClientError } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../server/trpc/root.js';

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();
/** What each procedure answers, for components that receive its data as props. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 2_000,
      retry: (count, err) => !(err instanceof TRPCClientError && ['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND'].includes(err.data?.code)) && count < 2,
    },
  },
});

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      // Opened lazily, after sign-in, so the session cookie goes with the upgrade request.
      true: wsLink({ client: createWSClient({ url: wsUrl, lazy: { enabled: true, closeMs: 10_000 } }) }),
      false: httpBatchLink({ url: '/trpc' }),
    }),
  ],
});

/** Field → messages from a failed tRPC call (the shared zod schemas and the domain's checks). */
export function serverFieldErrors(err: unknown): Record<string, string[]> {
  if (err instanceof TRPCClientError) return (err.data?.fields as Record<string, string[]> | null) ?? {};
  return {};
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
