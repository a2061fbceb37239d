import { useState } from 'react';
import { dayStart } from './historyFormat.js';

export interface DateRangeState {
  fromDay: string;
  toDay: string;
  setFromDay: (d: string) => void;
  setToDay: (d: string) => void;
  /** Start of the first day and of the day after the last (ISO), for `start_time` ≥ from and < to. */
  from: string | undefined;
  to: string | undefined;
}

/** A range of days (inclusive) in the browser's time zone; `onChange` runs when either end changes (back to page 1). */
export function useDateRange(onChange: () => void): DateRangeState {
  const [fromDay, setFrom] = useState('');
  const [toDay, setTo] = useState('');
  return {
    fromDay,
    toDay,
    setFromDay: (d) => {
      setFrom(d);
      onChange();
    },
    setToDay: (d) => {
      setTo(d);
      onChange();
    },
    from: dayStart(fromDay),
    to: dayStart(toDay, true),
  };
}

/** "From" and "To" date inputs for a history list. */
export function DateRange({ range }: { range: DateRangeState }) {
  return (
    <>
      <label htmlFor="history-from">From</label>
      <input id="history-from" type="date" className="date" value={range.fromDay} onChange={(e) => range.setFromDay(e.target.value)} />
      <label htmlFor="history-to">To</label>
      <input id="history-to" type="date" className="date" value={range.toDay} onChange={(e) => range.setToDay(e.target.value)} />
    </>
  );
}
