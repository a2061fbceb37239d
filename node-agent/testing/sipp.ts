import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The SIP tests' sipp scenarios (node-agent/sip/sipp/). */
export const sippScenario = (name: string): string => join(import.meta.dirname, '..', 'sip', 'sipp', name);

export interface SippRun {
  /** `u1` UDP (default) or `t1` TCP. */
  transport?: 'u1' | 't1';
  /** Calls in all (default 1); with `limit` at once and `rate` a second. */
  calls?: number;
  limit?: number;
  rate?: number;
  /** sipp's own time limit for the scenario, in seconds (default 10); the process is killed 10 s later. */
  timeoutS?: number;
  /** Print sipp's unexpected messages on stderr (`-trace_err`). */
  traceErrors?: boolean;
}

/**
 * Runs a scenario of node-agent/sip/sipp/ as a caller against the node at 127.0.0.1:`port`, `service`
 * as the Request-URI's user; resolves with sipp's exit code (0: every step as scripted).
 */
export async function runSipp(scenario: string, port: number, service: string, opts: SippRun = {}): Promise<number> {
  const timeoutS = opts.timeoutS ?? 10;
  const args = [
    ...['-sf', sippScenario(scenario), `127.0.0.1:${port}`, '-s', service],
    ...(opts.transport ? ['-t', opts.transport] : []),
    ...['-m', String(opts.calls ?? 1)],
    ...(opts.limit !== undefined ? ['-l', String(opts.limit)] : []),
    ...(opts.rate !== undefined ? ['-r', String(opts.rate)] : []),
    ...['-p', '0', '-i', '127.0.0.1', '-nostdin', '-timeout', `${timeoutS}s`, '-timeout_error'],
    ...(opts.traceErrors ? ['-trace_err', '-error_file', '/dev/stderr'] : []),
  ];
  try {
    await run('sipp', args, { timeout: (timeoutS + 10) * 1000 });
    return 0;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (process.env.SIPP_DEBUG) console.log(scenario, e.stdout?.slice(-3000), e.stderr?.slice(-2000));
    return e.code ?? -1;
  }
}

/**
 * A sipp device playing a scenario of node-agent/sip/sipp/ on `port` (a callee the node dials) over
 * UDP (u1) or TCP (t1); resolves with its exit code (0: every step as scripted).
 */
export function sippDevice(scenario: string, port: number, transport: 'u1' | 't1' = 'u1'): Promise<number> {
  const child = spawn(
    'sipp',
    [
      '-sf',
      sippScenario(scenario),
      '-p',
      String(port),
      '-t',
      transport,
      '-i',
      '127.0.0.1',
      '-m',
      '1',
      '-nostdin',
      '-timeout',
      '30s',
      '-timeout_error',
      ...(process.env.SIPP_DEBUG ? ['-trace_msg', '-message_file', '/tmp/sipp-msg.log', '-trace_err', '-error_file', '/tmp/sipp-err.log'] : []),
    ],
    { stdio: process.env.SIPP_DEBUG ? 'inherit' : 'ignore' },
  );
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
}

/** A free port (UDP and TCP both free a moment ago). */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  s.close();
  return port;
}
