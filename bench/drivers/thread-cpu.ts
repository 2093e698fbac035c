/**
 * CPU time consumed by the calling thread, in seconds (Linux: /proc/thread-self/stat, utime +
 * stime at USER_HZ = 100, so 10 ms resolution), or undefined where the platform does not expose
 * it. The harness uses it to tell "the code got slower" from "the machine gave us less CPU".
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100;

export function threadCpuSec(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SEC : undefined;
  } catch {
    return undefined;
  }
}
