import { z } from 'zod';

/** The guide's alarm levels (Status > Alarms), as the APIs spell them. */
export type AlarmLevel = 'critical' | 'error' | 'warning';

export interface AlarmKind {
  /** The alarm's name in the guide's catalogue. */
  name: string;
  /** The guide's numeric ID (status/v1 `identifier`). */
  identifier: number;
  level: AlarmLevel;
  /** The guide's cause and suggested resolution (shown beside the alarm in the console). */
  cause: string;
  resolution: string;
}

/**
 * The guide's alarms that apply to this platform (admin guide, Viewing alarms), keyed by what the
 * guide logs as `Alarm=`.
 */
export const ALARM_CATALOGUE = {
  capacity_exhausted: {
    name: 'Call capacity limit reached',
    identifier: 1,
    level: 'warning',
    cause: 'A call has not been accepted because all Conferencing Nodes that are able to take the media for this call are at capacity.',
    resolution:
      'Deploy more Conferencing Nodes, move them onto more powerful servers or give them more virtual CPUs; configure each location with overflow locations.',
  },
  syslog_inaccessible: {
    name: 'Syslog server inaccessible',
    identifier: 4,
    level: 'warning',
    cause: 'A syslog server has been configured to use TCP or TLS but either is not responding to contact requests, or the connection has dropped.',
    resolution: 'Check your network connectivity. Check that the syslog server is running.',
  },
  trustedca_expiring: {
    name: 'Trusted CA certificates expiring',
    identifier: 6,
    level: 'warning',
    cause: 'One or more of your trusted CA certificates is due to expire within the next 30 days, or has already expired.',
    resolution: 'Upload an updated trusted CA certificate.',
  },
  tls_certificate_expiring: {
    name: 'TLS certificates expiring',
    identifier: 7,
    level: 'warning',
    cause: 'One or more of your TLS certificates is due to expire within the next 30 days, or has already expired.',
    resolution: 'Upload a new TLS certificate and associate it with its nodes; you may then delete the old one.',
  },
  configuration_sync_failure: {
    name: 'Configuration not synchronized',
    identifier: 18,
    level: 'error',
    cause: 'The Conferencing Node has not applied the configuration sent to it within the last 2 expected replication intervals (3 minutes).',
    resolution: 'Ensure that the Management Node and the Conferencing Node are fully routable to each other in both directions.',
  },
  connectivity_lost: {
    name: 'Connectivity lost between nodes',
    identifier: 19,
    level: 'warning',
    cause: 'Communication to a node has been lost.',
    resolution: 'Check network connectivity and routing, or in the case of a software upgrade, wait for the upgrade process to complete.',
  },
  eventsink_maximum_backoff: {
    name: 'Eventsink Reached Maximum Backoff',
    identifier: 36,
    level: 'critical',
    cause:
      'Events could not be delivered to an event sink: after retries doubling from 1 second, the next wait would exceed 30 minutes, so the event sink publisher was stopped.',
    resolution:
      'Check the support log for the reason for the failures and resolve them; then remove the event sink from its system locations, wait for the change to reach the nodes, and associate it again.',
  },
} as const satisfies Record<string, AlarmKind>;

export type AlarmKey = keyof typeof ALARM_CATALOGUE;
export const ALARM_KEYS = Object.keys(ALARM_CATALOGUE) as [AlarmKey, ...AlarmKey[]];
export const alarmKeySchema = z.enum(ALARM_KEYS);

/** The guide's cause and resolution of a stored alarm, from its identifier. */
export function alarmHelp(identifier: number): { cause: string; resolution: string } | undefined {
  const key = alarmKeyOf(identifier);
  return key ? { cause: ALARM_CATALOGUE[key].cause, resolution: ALARM_CATALOGUE[key].resolution } : undefined;
}

/** The `Alarm=` key of a stored alarm, from its identifier. */
export function alarmKeyOf(identifier: number): AlarmKey | undefined {
  return ALARM_KEYS.find((k) => ALARM_CATALOGUE[k].identifier === identifier);
}
