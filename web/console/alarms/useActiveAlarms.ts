import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC, type RouterOutputs } from '../trpc.js';

export type ConsoleAlarm = RouterOutputs['alarm']['history']['alarms'][number];

/** The active alarms, live: the server sends the list again after every raise, lower or acknowledgement. */
export function useActiveAlarms(): { alarms: ConsoleAlarm[] | null; error: string | null } {
  const trpc = useTRPC();
  const [alarms, setAlarms] = useState<ConsoleAlarm[] | null>(null);
  const sub = useSubscription(trpc.alarm.active.subscriptionOptions(undefined, { onData: (data) => setAlarms(data) }));
  return { alarms, error: sub.error?.message ?? null };
}

/** The guide's levels as it writes them. */
export const LEVEL_LABEL: Record<string, string> = { critical: 'Critical', error: 'Error', warning: 'Warning' };
