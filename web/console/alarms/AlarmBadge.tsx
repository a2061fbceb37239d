import { Link } from 'react-router-dom';
import { useActiveAlarms } from './useActiveAlarms.js';
import './alarms.css';

/** The guide's flashing triangle at the top of every page while alarms are active; opens the Alarms page. */
export function AlarmBadge() {
  const { alarms } = useActiveAlarms();
  const count = alarms?.length ?? 0;
  if (count === 0) return null;
  const worst = alarms!.some((a) => a.level === 'critical' || a.level === 'error') ? 'error' : 'warning';
  const label = `${count} active alarm${count === 1 ? '' : 's'}`;
  return (
    <Link to="/alarms" className={`alarm-badge ${worst}`} aria-label={label} title={label} data-testid="alarm-badge">
      <span aria-hidden="true">▲</span> {count}
    </Link>
  );
}
