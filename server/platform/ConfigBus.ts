import { EventEmitter } from 'node:events';

export interface ConfigBusEvents {
  /** Configuration that nodes depend on changed; `what` names the object kind for logs. */
  changed: [what: string];
}

/** Tells the node registry that configuration changed, so it pushes a new snapshot at once. */
export class ConfigBus extends EventEmitter<ConfigBusEvents> {
  notify(what: string): void {
    this.emit('changed', what);
  }
}
