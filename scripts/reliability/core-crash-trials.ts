/**
 * Crash trials of the storage core: a child appends under one flush policy and is SIGKILLed at a
 * random moment; the log is then reopened here and checked:
 *  - every record the child reported (A: append returned; C: durable under 'sync') is present at
 *    the position it was given, intact;
 *  - a scan returns only intact records, in index order, with no gap (one writer);
 *  - recovery reports no corrupt frame (a process kill cannot damage a written frame) and cuts
 *    less than one segment.
 * A process kill leaves the page cache intact, so with the log's shared mappings even 'none'
 * keeps every appended record; only a machine crash separates the policies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { isMqlabError } from '../../core/errors';
import type { FlushPolicy } from '../../core/log/types';
import { patternIndex } from './record-pattern';
import { collectLines, spawnTs, waitExit } from './spawn-ts';

export interface CoreCrashStats {
  policy: FlushPolicy;
  trials: number;
  killedBeforeReady: number;
  /** Records the child reported as appended (A) or durable (C) before the kill. */
  confirmed: number;
  /** Of those, confirmed durable under 'sync'. */
  confirmedDurable: number;
  lost: number;
  corruptReturned: number;
  corruptReported: number;
  outOfOrder: number;
  recoveredRecords: number;
  truncatedBytes: number;
  childFailures: number;
  problems: string[];
}

const CHILD = path.join(__dirname, 'core-crash-child.ts');

export interface CoreCrashOptions {
  policy: FlushPolicy;
  trials: number;
  root: string;
  /** Kill delay after the child is ready: uniform in [0, maxDelayMs]. */
  maxDelayMs?: number;
  segmentBytes?: number;
  /** Trials that share one log directory before a fresh one is started. */
  trialsPerLog?: number;
  rng?: () => number;
}

function emptyStats(policy: FlushPolicy): CoreCrashStats {
  return { policy, trials: 0, killedBeforeReady: 0, confirmed: 0, confirmedDurable: 0, lost: 0, corruptReturned: 0, corruptReported: 0,
    outOfOrder: 0, recoveredRecords: 0, truncatedBytes: 0, childFailures: 0, problems: [] };
}

/** Scans the whole log; returns how many intact records in index order it holds. */
function verifyLog(dir: string, segmentBytes: number, confirmed: Map<number, number>, s: CoreCrashStats): number {
  const log = CommitLog.open(dir, { segmentBytes });
  try {
    const r = log.recovery;
    s.truncatedBytes += r.truncatedBytes;
    if (r.corrupt.length > 0) {
      s.corruptReported += r.corrupt.length;
      s.problems.push(`${dir}: recovery reported corrupt frames ${JSON.stringify(r.corrupt.slice(0, 3))}`);
    }
    if (r.truncatedBytes < 0 || r.truncatedBytes > segmentBytes) s.problems.push(`${dir}: truncatedBytes ${r.truncatedBytes} out of range`);
    let count = 0;
    const positionOf = new Map<number, number>();
    try {
      for (const rec of log.records()) {
        const idx = patternIndex(rec.payload);
        if (idx < 0) {
          s.corruptReturned++;
          if (s.problems.length < 20) s.problems.push(`${dir}: record at ${rec.position} is not an intact pattern record`);
        } else if (idx !== count) {
          s.outOfOrder++;
          if (s.problems.length < 20) s.problems.push(`${dir}: record at ${rec.position} is index ${idx}, expected ${count}`);
        }
        positionOf.set(idx, rec.position);
        count++;
      }
    } catch (e) {
      if (!isMqlabError(e)) throw e;
      s.corruptReturned++;
      s.problems.push(`${dir}: scan failed with ${e.code}: ${e.message}`);
    }
    for (const [idx, pos] of confirmed) {
      if (positionOf.get(idx) !== pos) {
        s.lost++;
        if (s.problems.length < 20) s.problems.push(`${dir}: confirmed record ${idx} at ${pos} missing (found at ${positionOf.get(idx)})`);
      }
    }
    s.recoveredRecords += count;
    return count;
  } finally {
    log.close();
  }
}

export async function runCoreCrashTrials(o: CoreCrashOptions): Promise<CoreCrashStats> {
  const s = emptyStats(o.policy);
  const rng = o.rng ?? Math.random;
  const segmentBytes = o.segmentBytes ?? 64 * 1024;
  const perLog = o.trialsPerLog ?? 8;
  const maxDelay = o.maxDelayMs ?? 150;
  let dir = '';
  let nextIndex = 0;
  const confirmed = new Map<number, number>();
  for (let t = 0; t < o.trials; t++) {
    if (t % perLog === 0) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      dir = path.join(o.root, `${o.policy}-${t}`);
      nextIndex = 0;
      confirmed.clear();
    }
    const child = spawnTs(CHILD, [dir, o.policy, String(nextIndex), String(segmentBytes)]);
    // One trial in eight kills during open/recovery, before the child says it is ready.
    const early = rng() < 0.125;
    let timer: NodeJS.Timeout | undefined;
    const kill = () => child.kill('SIGKILL');
    let ready = false;
    const out = collectLines(child, (line) => {
      if (!ready && line.startsWith('R ')) {
        ready = true;
        if (!early) timer = setTimeout(kill, rng() * maxDelay);
      }
    });
    if (early) timer = setTimeout(kill, 100 + rng() * 800);
    const exit = await waitExit(child);
    if (timer) clearTimeout(timer);
    s.trials++;
    if (!ready) s.killedBeforeReady++;
    if (exit.signal !== 'SIGKILL') {
      s.childFailures++;
      s.problems.push(`trial ${t}: child exited ${exit.code ?? exit.signal}: ${out.stderr().slice(0, 500)}`);
    }
    for (const line of out.lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'A' || kind === 'C') {
        confirmed.set(Number(a), Number(b));
        s.confirmed++;
        if (kind === 'C') s.confirmedDurable++;
      }
    }
    if (!fs.existsSync(dir)) continue;  // killed before the directory existed
    nextIndex = verifyLog(dir, segmentBytes, confirmed, s);
    // Records appended but not reported are kept by the log; later trials continue after them.
    for (const idx of [...confirmed.keys()]) if (idx >= nextIndex) confirmed.delete(idx);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  return s;
}
