/**
 * Real kill -9 crash test: a child appends with flush 'sync' and prints each confirmed write; we
 * SIGKILL it at a random moment, reopen, and check that every confirmed record is there and
 * intact, that records form an unbroken sequence, and that nothing corrupt is returned.
 */
import t, { type Test } from 'tap';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { removeDir, runUntilKilled, tempDir } from './helpers';

const CHILD = path.join(__dirname, '..', 'fixtures', 'log-crash-writer.ts');
const TRIALS = Number(process.env.MQLAB_CRASH_TRIALS ?? 24);
const LANES = 3;

/** Same as payloadOf in the fixture. */
function payloadOf(i: number): Buffer {
  const size = 20 + (i * 37) % 300;
  const b = Buffer.alloc(size, i & 0xff);
  b.write(`crash-${i}:`);
  return b;
}

interface Trial {
  confirmed: Map<number, number>;
  started: number;
}

async function runAndKill(dir: string, killAfterMs: number, mode: string): Promise<Trial> {
  const confirmed = new Map<number, number>();
  let started = -1;
  await runUntilKilled([CHILD, dir, mode], (line, killAfter) => {
    if (line.startsWith('start ')) {
      started = Number(line.slice(6));
      killAfter(killAfterMs);
    } else {
      const [seq, pos] = line.split(' ').map(Number);
      confirmed.set(seq!, pos!);
    }
  });
  return { confirmed, started };
}

/** One lane: `trials` kills in a row on one directory. Returns failures and counts. */
async function lane(dir: string, mode: 'sync' | 'none', trials: number): Promise<{ failures: string[]; confirmed: number; records: number }> {
  let totalConfirmed = 0;
  let expectedStart = 0;
  const failures: string[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const killAfter = 5 + Math.floor(Math.random() * 300);
    const { confirmed, started } = await runAndKill(dir, killAfter, mode);
    if (started !== expectedStart) failures.push(`trial ${trial}: child saw ${started} records, previous trial left ${expectedStart}`);
    totalConfirmed += confirmed.size;
    const log = CommitLog.open(dir, { segmentBytes: 256 * 1024 });
    if (log.recovery.corrupt.length) failures.push(`trial ${trial}: corrupt ${JSON.stringify(log.recovery.corrupt)}`);
    let seq = 0;
    let prevNext = log.startPosition;
    const positions = new Map<number, number>();
    try {
      for (const r of log.records()) {
        if (!r.payload.equals(payloadOf(seq))) failures.push(`trial ${trial}: record ${seq} at ${r.position} has wrong content`);
        if (r.position !== prevNext) failures.push(`trial ${trial}: gap before ${r.position}`);
        prevNext = r.next;
        positions.set(seq, r.position);
        seq++;
      }
    } catch (e) {
      failures.push(`trial ${trial}: scan failed at record ${seq}: ${String(e)}`);
    }
    for (const [s, p] of confirmed) {
      if (positions.get(s) !== p) failures.push(`trial ${trial}: confirmed record ${s} at ${p} missing (found ${positions.get(s)})`);
    }
    expectedStart = seq;
    log.close();
    if (failures.length > 5) break;
  }
  return { failures, confirmed: totalConfirmed, records: expectedStart };
}

/** `trials` kills spread over LANES directories that run side by side (child start-up dominates). */
async function crashTrials(t: Test, mode: 'sync' | 'none', trials: number): Promise<void> {
  const lanes = Math.min(LANES, trials);
  const dirs = Array.from({ length: lanes }, () => tempDir(`crash-${mode}`));
  t.teardown(() => dirs.forEach(removeDir));
  const results = await Promise.all(dirs.map((dir, i) => lane(dir, mode, Math.floor(trials / lanes) + (i < trials % lanes ? 1 : 0))));
  const failures = results.flatMap((r, i) => r.failures.map((f) => `lane ${i} ${f}`));
  const confirmed = results.reduce((n, r) => n + r.confirmed, 0);
  t.same(failures, [], 'every confirmed record present and intact after every kill');
  t.ok(confirmed > trials, `${confirmed} confirmed writes over ${trials} trials, ${results.map((r) => r.records).join(' + ')} records in the logs`);
}

t.test(`kill -9 during flush 'sync' writes loses no confirmed record (${TRIALS} trials)`, (t) => crashTrials(t, 'sync', TRIALS));
t.test(`kill -9 during flush 'none' appends loses no appended record (${Math.ceil(TRIALS / 4)} trials)`, (t) =>
  crashTrials(t, 'none', Math.ceil(TRIALS / 4)));
