import { EventEmitter } from 'node:events';

export interface ConfigBusEvents {
  /** Configuration that nodes depend on changed; `what` names the object kind for logs. */
  changed: [what: string];
  /** Administrator accounts or roles changed: credentials verified earlier may no longer hold. */
  accountsChanged: [];
}

/** A change as it travels between management servers. */
export type ConfigBusChange = { kind: 'changed'; what: string } | { kind: 'accountsChanged' };

/**
 * Tells the parts that act on configuration what changed: the node registry pushes a new snapshot
 * at once, the management API forgets the credentials it verified. The domain stays unaware of them.
 */
export class ConfigBus extends EventEmitter<ConfigBusEvents> {
  /** Where this server's own changes also go: the other management servers on the same Postgres (server/platform/cluster); none alone. */
  relay: ((change: ConfigBusChange) => void) | null = null;

  notify(what: string): void {
    this.emit('changed', what);
    this.relay?.({ kind: 'changed', what });
  }

  accountsChanged(): void {
    this.emit('accountsChanged');
    this.relay?.({ kind: 'accountsChanged' });
  }

  /** A change made on another management server: acted on here as if made here, and not relayed again. */
  received(change: ConfigBusChange): void {
    if (change.kind === 'changed') this.emit('changed', change.what);
    else this.emit('accountsChanged');
  }
}
