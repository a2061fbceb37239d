import type { Logger } from 'pino';
import type { EventSinkConfig } from '../../shared/node-protocol/messages.js';
import type { Clock } from '../../shared/time/Clock.js';
import type { NodeAlarms } from '../alarms/NodeAlarms.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import { EventSinkPublisher, type PublisherStats, type PublisherTimings } from './EventSinkPublisher.js';
import { conferenceData, participantData, pendingEvent, type PendingEvent, type SinkEventName } from './sinkEvents.js';

export interface EventSinksOptions {
  /** The node's name, sent as `node` in every event. */
  node: string;
  log: Logger;
  timings?: Partial<PublisherTimings>;
  /** The publishers' clock (retry waits, request limits); default the system clock. */
  clock?: Clock;
  /** Where a sink stopped at maximum backoff raises its alarm (lowered when the sink is removed or changed). */
  alarms?: NodeAlarms;
}

/**
 * The event sinks of the node's system location (guide §14.9): one publisher per sink, following
 * each configuration snapshot. A removed sink's publisher stops (sending `eventsink_stopped` best
 * effort); a changed sink (URL, credentials, options) is restarted; an unchanged one keeps going, so
 * a sink stopped at maximum backoff stays stopped until it is removed from the location and re-added.
 */
export class EventSinks {
  private readonly publishers = new Map<string, { key: string; publisher: EventSinkPublisher }>();

  constructor(private readonly opts: EventSinksOptions) {}

  apply(sinks: readonly EventSinkConfig[]): void {
    const wanted = new Map(sinks.map((s) => [s.name, s]));
    const stopping = new Map<string, Promise<void>>();
    for (const [name, { key, publisher }] of this.publishers) {
      const next = wanted.get(name);
      if (next && sinkKey(next) === key) continue;
      this.publishers.delete(name);
      stopping.set(name, publisher.stop());
      // The guide's way to restart a stopped publisher: remove the sink and add it again.
      this.opts.alarms?.lower('eventsink_maximum_backoff', name);
    }
    for (const [name, sink] of wanted) {
      if (this.publishers.has(name)) continue;
      // A restarted sink's new publisher waits for the old one's eventsink_stopped (bounded by its stop timeout).
      const publisher = new EventSinkPublisher(sink, this.opts.node, this.opts.log, {
        timings: this.opts.timings,
        clock: this.opts.clock,
        after: stopping.get(name),
      });
      publisher.onMaximumBackoff = (details) => this.opts.alarms?.raise('eventsink_maximum_backoff', name, details);
      this.publishers.set(name, { key: sinkKey(sink), publisher });
    }
  }

  /** Sends every conference and participant event of the manager to the sinks. */
  attach(manager: ConferenceManager): void {
    const location = () => manager.node?.systemLocation ?? '';
    manager.on('conferenceStarted', (c) => {
      this.emit('conference_started', () => conferenceData(c));
      c.on('participantUpdated', (p) => this.emit('participant_updated', () => participantData(c, p, location())));
    });
    manager.on('conferenceEnded', (c) => this.emit('conference_ended', () => conferenceData(c, true)));
    manager.on('participantJoined', (c, p) => this.emit('participant_connected', () => participantData(c, p, location())));
    manager.on('participantLeft', (c, p, reason) => this.emit('participant_disconnected', () => participantData(c, p, location(), reason)));
  }

  private emit(event: SinkEventName, data: () => object): void {
    if (this.publishers.size === 0) return;
    this.publish(pendingEvent(event, data()));
  }

  publish(ev: PendingEvent): void {
    for (const { publisher } of this.publishers.values()) publisher.publish(ev);
  }

  stats(): PublisherStats[] {
    return [...this.publishers.values()].map(({ publisher }) => publisher.stats());
  }

  /** Stops every publisher, each sending what it has queued (and `eventsink_stopped`) best effort. */
  async close(timeoutMs = 1_500): Promise<void> {
    const all = [...this.publishers.values()].map(({ publisher }) => publisher.stop(timeoutMs));
    this.publishers.clear();
    await Promise.all(all);
  }
}

/** Identity of a sink's configuration: any change restarts its publisher. (Holds the password: never log it.) */
function sinkKey(s: EventSinkConfig): string {
  return JSON.stringify([s.url, s.username, s.password, s.verifyTls, s.bulkSupport, s.version]);
}
