/**
 * A multi-stream client's signalling across Node's IPC pipe: the client runs in a child process
 * (e.g. inside a network namespace, so its media crosses a link we shape), the session it talks
 * to stays in the parent. Messages carry `signal` (a request) or `signalReply`, so they share the
 * pipe with rpc.ts calls.
 */
import type { ChildProcess } from 'node:child_process';
import type { SessionSignalling } from './MultiStreamTestClient.js';

type Method = keyof SessionSignalling;
interface SignalRequest {
  signal: number;
  method: Method;
  args: unknown[];
}
interface SignalReply {
  signalReply: number;
  result?: unknown;
  error?: string;
}

const METHODS: Method[] = ['join', 'connectTransport', 'produce', 'resumeConsumer', 'consumers'];

/** In the child: signalling that the parent answers (see `answerSignalling`). */
export function parentSignalling(): SessionSignalling {
  if (!process.send) throw new Error('parentSignalling needs an IPC channel to the parent');
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  process.on('message', (msg: Partial<SignalReply>) => {
    if (typeof msg?.signalReply !== 'number') return;
    const p = pending.get(msg.signalReply);
    pending.delete(msg.signalReply);
    if (msg.error !== undefined) p?.reject(new Error(msg.error));
    else p?.resolve(msg.result);
  });
  // The parent answers with what the session returned (structured-cloned): its own types.
  const call = <T>(method: Method, args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: (v) => resolve(v as T), reject });
      process.send!({ signal: id, method, args } satisfies SignalRequest);
    });
  return {
    join: (...args) => call('join', args),
    connectTransport: (...args) => call('connectTransport', args),
    produce: (...args) => call('produce', args),
    resumeConsumer: (...args) => call('resumeConsumer', args),
    consumers: () => call('consumers', []),
  };
}

/** In the parent: answers `child`'s signalling with `sig` (a session here). */
export function answerSignalling(child: ChildProcess, sig: SessionSignalling): void {
  child.on('message', (msg: Partial<SignalRequest>) => {
    if (typeof msg?.signal !== 'number' || !METHODS.includes(msg.method as Method)) return;
    const id = msg.signal;
    const fn = sig[msg.method as Method] as (...a: unknown[]) => Promise<unknown>;
    fn(...(msg.args ?? [])).then(
      (result) => child.send({ signalReply: id, result } satisfies SignalReply),
      (err: unknown) => child.send({ signalReply: id, error: err instanceof Error ? err.message : String(err) } satisfies SignalReply),
    );
  });
}
