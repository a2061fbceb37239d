import { useEffect, useState } from 'react';

/** Previous / "x–y of N" / Next under a server-paged table. */
export function Pager({ offset, total, pageSize, onOffset }: { offset: number; total: number; pageSize: number; onOffset: (o: number) => void }) {
  return (
    <div className="pager">
      <button type="button" className="secondary" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - pageSize))}>
        Previous
      </button>
      <span>{total === 0 ? '0 of 0' : `${offset + 1}–${Math.min(offset + pageSize, total)} of ${total}`}</span>
      <button type="button" className="secondary" disabled={offset + pageSize >= total} onClick={() => onOffset(offset + pageSize)}>
        Next
      </button>
    </div>
  );
}

/** A search box's value, debounced; `onSettle` runs when the debounced value changes (e.g. back to page 1). */
export function useDebounced(value: string, onSettle: () => void, ms = 250): string {
  const [debounced, setDebounced] = useState(value.trim());
  useEffect(() => {
    const t = setTimeout(() => {
      setDebounced(value.trim());
      onSettle();
    }, ms);
    return () => clearTimeout(t);
    // onSettle is not a dependency: callers pass a fresh closure each render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, ms]);
  return debounced;
}
