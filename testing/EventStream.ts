import { until } from '../shared/testing/until.js';

/** An event's JSON payload: its fields vary by event (tests read the ones they check); null when a
 * payload is cleared (e.g. `splash_screen` when the splash screen goes). */
export type SseData = { readonly [field: string]: unknown } | null;

export interface SseEvent {
  event: string;
  data: SseData;
  at: number;
}

/** A client API event stream (Server-Sent Events over fetch), collected as it arrives. */
export class EventStream {
  readonly events: SseEvent[] = [];
  private readonly ac = new AbortController();
  /** The server ended the stream (or it was closed). */
  closed = false;

  /** Opens the stream; refuses anything but `text/event-stream`. */
  static async open(url: string): Promise<EventStream> {
    const s = new EventStream();
    const res = await fetch(url, { signal: s.ac.signal });
    const type = res.headers.get('content-type');
    if (type !== 'text/event-stream') throw new Error(`${url}: ${res.status} ${type ?? 'no content type'}, not an event stream`);
    void s.read(res.body!.getReader());
    return s;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m = /^event: (\S+)\ndata: (.*)$/m.exec(block);
        if (m) this.events.push({ event: m[1]!, data: JSON.parse(m[2]!) as SseData, at: Date.now() });
      }
    }
    this.closed = true;
  }

  names(): string[] {
    return this.events.map((e) => e.event);
  }

  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** The first event of that name, waiting for it. */
  async first(event: string, ms?: number): Promise<SseEvent> {
    return (await until(
      () => this.events.find((e) => e.event === event),
      (e) => e !== undefined,
      ms,
    ))!;
  }

  close(): void {
    this.ac.abort();
  }
}
