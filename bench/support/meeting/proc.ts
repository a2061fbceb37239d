import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * CPU time of processes from /proc (Linux only): utime + stime of each process, process trees
 * found through /proc/<pid>/task/<tid>/children, and the machine's busy time from /proc/stat.
 */

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The direct children of a process (all its threads' children). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

/** The process and all its descendants. */
export function treeOf(pid: number): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    if (seen.includes(p)) continue;
    seen.push(p);
    queue.push(...childrenOf(p));
  }
  return seen;
}

export interface ProcSample {
  pid: number;
  comm: string;
  /** utime + stime, seconds. */
  cpuS: number;
}

/** One process's CPU seconds so far (null when it is gone). */
export function procCpu(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // After "pid (comm) ": state=0 ppid=1 … utime=11 stime=12 (fields 14 and 15 of proc(5)).
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid, comm, cpuS: ticks / CLK_TCK };
  } catch {
    return null;
  }
}

/** Machine CPU seconds so far, summed over all cores: busy (not idle, not iowait) and total. */
export function machineCpu(): { busyS: number; totalS: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busyS: (total - idle) / CLK_TCK, totalS: total / CLK_TCK };
}

/** CPU seconds of a set of processes at one moment, keyed by pid. */
export function sampleProcs(pids: readonly number[]): Map<number, ProcSample> {
  const m = new Map<number, ProcSample>();
  for (const pid of pids) {
    const s = procCpu(pid);
    if (s) m.set(pid, s);
  }
  return m;
}

/**
 * % of one core used by the processes sampled at both ends, over `seconds` of wall time
 * (processes that started or ended in between are left out).
 */
export function cpuPct(a: Map<number, ProcSample>, b: Map<number, ProcSample>, seconds: number, filter: (s: ProcSample) => boolean = () => true): number {
  let s = 0;
  for (const [pid, end] of b) {
    const start = a.get(pid);
    if (start && filter(end)) s += end.cpuS - start.cpuS;
  }
  return Math.round((s / seconds) * 1000) / 10;
}
