import { EventEmitter } from 'node:events';

export interface ConfigBusEvents {
  /** Configuration that nodes depend on changed; `what` names the object kind for logs. */
  changed: [what: string];
  /** Administrator accounts or roles changed: credentials verified earlier may no longer hold. */
  accountsChanged: [];
}

/**
 * Tells the parts that act on configuration what changed: the node registry pushes a new snapshot
 * at once, the management API forgets the credentials it verified. The domain stays unaware of them.
 */
export class ConfigBus extends EventEmitter<ConfigBusEvents> {
  notify(what: string): void {
    this.emit('changed', what);
  }

  accountsChanged(): void {
    this.emit('accountsChanged');
  }
}
