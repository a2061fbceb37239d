/**
 * A tiny request/response channel between a benchmark or test and its child processes (the SFU
 * under test, the subscribers, a client inside a network namespace) over Node's IPC pipe, so that
 * each process's CPU can be read on its own from /proc and no bookkeeping runs inside the measured
 * process except what it asks for.
 */
import { spawn, type ChildProcess } from 'node:child_process';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (params: any) => unknown;

interface Request {
  id: number;
  method: string;
  params: unknown;
}
interface Response {
  id: number;
  result?: unknown;
  error?: string;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/** In a child: answers the parent's calls with `handlers`; exits when the parent goes away. */
export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('run me as a child process (node-agent/testing/rpc.ts: Child)');
  // A misbehaving peer must not end the run: log and carry on (DESIGN.md: guard werift).
  process.on('unhandledRejection', (err) => console.error('[unhandled rejection]', err));
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: Request) => {
    // Other traffic on the pipe (e.g. ipcSignalling.ts) is not a call.
    if (typeof msg?.method !== 'string') return;
    const reply = (r: Omit<Response, 'id'>) => process.send?.({ id: msg.id, ...r });
    const handler = handlers[msg.method];
    if (!handler) return reply({ error: `unknown method ${msg.method}` });
    Promise.resolve()
      .then(() => handler(msg.params))
      .then(
        (result) => reply({ result }),
        (err: unknown) => reply({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.send({ id: 0, result: 'ready' });
}

/** In the parent: a child process running `script` (a path from the repo root) with `serve`. */
export class Child {
  readonly proc: ChildProcess;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  private readonly ready: Promise<void>;

  constructor(
    script: string,
    readonly tag: string,
    env: Record<string, string> = {},
    /** A command the child runs under, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
    wrapper: string[] = [],
  ) {
    const [command, ...args] = [...wrapper, process.execPath, '--import', 'tsx', script];
    this.proc = spawn(command!, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const prefix = (d: Buffer) =>
      d
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => `[${tag}] ${l}`)
        .join('\n');
    this.proc.stdout?.on('data', (d: Buffer) => process.stderr.write(prefix(d) + '\n'));
    this.proc.stderr?.on('data', (d: Buffer) => process.stderr.write(prefix(d) + '\n'));
    this.ready = new Promise((resolve, reject) => {
      this.pending.set(0, { resolve: () => resolve(), reject, method: 'start' });
    });
    this.proc.on('message', (msg: Response) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(`${tag}.${p.method}: ${msg.error}`));
      else p.resolve(msg.result);
    });
    this.proc.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`${tag} exited (${code ?? signal}) during ${p.method}`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  async call<T = unknown>(method: string, params: unknown = {}, timeoutMs = 60_000): Promise<T> {
    await this.ready;
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.tag}.${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        method,
      });
      this.proc.send({ id, method, params } satisfies Request);
    });
  }

  /** Ends the child (its own cleanup first if it answers `close` in time). */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    await this.call('close', {}, 5_000).catch(() => undefined);
    if (this.proc.connected) this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    this.proc.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }
}
