import { LocalPreview } from './LocalPreview.js';

/**
 * The pre-join preview while joining is being prepared, as a store React reads with
 * useSyncExternalStore: an attempt to join outlives the render that started it (e.g. Rejoin) and
 * takes the preview current at that moment.
 */
export class PreviewSlot {
  private preview: LocalPreview | null = null;
  private readonly listeners = new Set<() => void>();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly current = (): LocalPreview | null => this.preview;

  /** Opens a new preview (camera and microphone); close() with it ends it unless it was taken. */
  open(): LocalPreview {
    const p = new LocalPreview();
    this.set(p);
    return p;
  }

  close(p: LocalPreview): void {
    p.dispose();
    if (this.preview === p) this.set(null);
  }

  private set(p: LocalPreview | null): void {
    this.preview = p;
    for (const l of [...this.listeners]) l();
  }
}
