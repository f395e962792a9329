import { readFileSync } from 'node:fs';

/** Linux process accounting from /proc, for the benches (figures, not tests). */

const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s.

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

/** VmHWM (peak, start-up included) or VmRSS (now) of a process, MiB. */
export function rssMib(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** Peak resident set (VmHWM) of a process, MiB. */
export const peakRssMib = (pid: number): number => rssMib(pid, 'VmHWM');

/** CPU µs per message (or reading) of each named process over a run: where the two cores went. */
export type CpuShare = Record<string, number>;
/** Starts counting now; the returned function gives each process's CPU µs divided by `messages`. */
export function cpuMeter(pids: Record<string, number>): (messages: number) => CpuShare {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  return (messages) =>
    Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, Number((((cpuSeconds(pid) - (before[k] ?? 0)) * 1e6) / messages).toFixed(1))]),
    );
}
