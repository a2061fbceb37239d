import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SippRun {
  /** Calls sipp counted as failed (its statistics file's FailedCall), all of them when it wrote none. */
  failed: number;
  /** INVITE→200 times in ms (sipp's response_time_ms), sorted. */
  setupMs: number[];
}

/**
 * Places `calls` calls at `rate` per second with a sipp client scenario against `target`
 * (`host:port`, the INVITE's user `service`) and reads sipp's statistics and response times.
 */
export async function sippCalls(opts: { scenario: string; target: string; service: string; rate: number; calls: number; timeoutS: number }): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'om-sipp-bench-'));
  try {
    await run(
      'sipp',
      [
        ...['-sf', opts.scenario, opts.target, '-s', opts.service],
        ...['-r', String(opts.rate), '-m', String(opts.calls), '-l', String(Math.max(4, opts.rate * 4))],
        ...['-i', '127.0.0.1', '-p', '0', '-nostdin', '-trace_stat', '-trace_rtt', '-rtt_freq', '1'],
        ...['-timeout', `${opts.timeoutS}s`],
      ],
      { cwd: dir, timeout: (opts.timeoutS + 30) * 1000 },
    ).catch((err: { code?: number }) => ({ code: err.code }));
    let failed = opts.calls;
    const stat = readdirSync(dir).find((f) => f.endsWith('.csv') && !f.includes('_rtt'));
    if (stat) {
      const lines = readFileSync(join(dir, stat), 'utf8').trim().split('\n');
      const head = lines[0]!.split(';');
      const last = lines.at(-1)!.split(';');
      failed = Number(last[head.indexOf('FailedCall(C)')] ?? opts.calls);
    }
    const rttFile = readdirSync(dir).find((f) => f.includes('_rtt'));
    const setupMs = rttFile
      ? readFileSync(join(dir, rttFile), 'utf8')
          .trim()
          .split('\n')
          .slice(1)
          // Date_ms;response_time_ms;rtd_no
          .map((l) => Number(l.split(';')[1]))
          .filter((n) => Number.isFinite(n))
          .sort((a, b) => a - b)
      : [];
    return { failed, setupMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const quantile = (sorted: number[], q: number): number | null => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
