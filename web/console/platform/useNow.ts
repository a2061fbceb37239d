import { useEffect, useState } from 'react';

/** The current time, renewed every `everyMs`: what a colour that changes with time alone ("last contacted") is worked out from. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
