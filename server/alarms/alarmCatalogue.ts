import { z } from 'zod';

/** The guide's alarm levels (Status > Alarms), as the APIs spell them. */
export type AlarmLevel = 'critical' | 'error' | 'warning';

export interface AlarmKind {
  /** The alarm's name in the guide's catalogue. */
  name: string;
  /** The guide's numeric ID (status/v1 `identifier`). */
  identifier: number;
  level: AlarmLevel;
}

/**
 * The guide's alarms that apply to this platform (admin guide, Viewing alarms), keyed by what the
 * guide logs as `Alarm=`.
 */
export const ALARM_CATALOGUE = {
  capacity_exhausted: { name: 'Call capacity limit reached', identifier: 1, level: 'warning' },
  syslog_inaccessible: { name: 'Syslog server inaccessible', identifier: 4, level: 'warning' },
  trustedca_expiring: { name: 'Trusted CA certificates expiring', identifier: 6, level: 'warning' },
  tls_certificate_expiring: { name: 'TLS certificates expiring', identifier: 7, level: 'warning' },
  configuration_sync_failure: { name: 'Configuration not synchronized', identifier: 18, level: 'error' },
  connectivity_lost: { name: 'Connectivity lost between nodes', identifier: 19, level: 'warning' },
  eventsink_maximum_backoff: { name: 'Eventsink Reached Maximum Backoff', identifier: 36, level: 'critical' },
} as const satisfies Record<string, AlarmKind>;

export type AlarmKey = keyof typeof ALARM_CATALOGUE;
export const ALARM_KEYS = Object.keys(ALARM_CATALOGUE) as [AlarmKey, ...AlarmKey[]];
export const alarmKeySchema = z.enum(ALARM_KEYS);

/** The `Alarm=` key of a stored alarm, from its identifier. */
export function alarmKeyOf(identifier: number): AlarmKey | undefined {
  return ALARM_KEYS.find((k) => ALARM_CATALOGUE[k].identifier === identifier);
}
