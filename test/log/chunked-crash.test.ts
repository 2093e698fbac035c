/**
 * Real kill -9 crash test for appendMode 'chunked': a child process runs two worker threads
 * appending in 'chunked' mode and its main thread appending in 'ordered' mode now and then, to
 * one log with 1 MiB segments (test/fixtures/log-chunked-crash-writer.ts). We SIGKILL it at a
 * random moment, reopen and check: nothing corrupt; every record whole; each writer's records an
 * unbroken sequence from 0 in position order; every confirmed record at the position reported;
 * reopening again finds nothing more to repair and the same records; appending (in 'chunked'
 * mode) after recovery works. Trials: MQLAB_CHUNKED_CRASH_TRIALS (default 16 'sync', a quarter as
 * many 'none', at least 2).
 */
import t, { type Test } from 'tap';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { parseTagged, removeDir, runUntilKilled, taggedPayload, tempDir } from './helpers';

const CHILD = path.join(__dirname, '..', 'fixtures', 'log-chunked-crash-writer.ts');
const TRIALS = Number(process.env.MQLAB_CHUNKED_CRASH_TRIALS ?? 16);
const LANES = 2;
const SEGMENT_BYTES = 1 << 20;
/** Writers 0 and 1: the child's chunked workers; 2: its ordered main thread; 3: this test, after recovery. */
const WRITERS = 4;
const PARENT_WRITER = 3;
/** A lane moves to a fresh directory once its log is this long. */
const MAX_LOG_BYTES = 64 * 1024 * 1024;

interface Trial {
  /** "writer:seq" -> position, for every record the child confirmed. */
  confirmed: Map<string, number>;
  /** Records per writer the child found when it opened the log. */
  started: number[];
}

async function runAndKill(dir: string, mode: 'sync' | 'none', killAfterMs: number, chunkTickMs?: number): Promise<Trial> {
  // The child kills itself a little later if this process's timer is late (see the fixture).
  const args = [CHILD, dir, mode, String(SEGMENT_BYTES), String(killAfterMs + 30)];
  const env = chunkTickMs === undefined ? process.env : { ...process.env, MQLAB_CHUNK_TICK_MS: String(chunkTickMs) };
  const confirmed = new Map<string, number>();
  let started: number[] = [];
  await runUntilKilled(args, (line, killAfter) => {
    if (line.startsWith('start ')) {
      started = line.slice(6).split(' ').map(Number);
    } else if (line === 'go') {
      killAfter(killAfterMs);
    } else {
      const [writer, seq, pos] = line.split(' ');
      confirmed.set(`${writer}:${seq}`, Number(pos));
    }
  }, env);
  return { confirmed, started };
}

interface Scan {
  /** [position, writer, seq] of every record, in log order. */
  records: Array<[number, number, number]>;
  failures: string[];
}

/** Reads the whole log, checking each record's content and each writer's sequence from 0. */
function scan(log: CommitLog): Scan {
  const counts = new Array<number>(WRITERS).fill(0);
  const records: Array<[number, number, number]> = [];
  const failures: string[] = [];
  try {
    for (const r of log.records()) {
      const tag = parseTagged(r.payload);
      if (!tag || tag.writer >= WRITERS) {
        failures.push(`record at ${r.position} (${r.payload.length} B) is not a tagged payload`);
        continue;
      }
      if (!r.payload.equals(taggedPayload(tag.writer, tag.seq))) failures.push(`w${tag.writer}:${tag.seq} at ${r.position} has wrong content`);
      if (tag.seq !== counts[tag.writer]) failures.push(`w${tag.writer}: seq ${tag.seq} at ${r.position}, expected ${counts[tag.writer]}`);
      counts[tag.writer] = tag.seq + 1;
      records.push([r.position, tag.writer, tag.seq]);
    }
  } catch (e) {
    failures.push(`scan failed after ${records.length} records: ${String(e)}`);
  }
  return { records, failures };
}

interface LaneResult {
  failures: string[];
  confirmed: number;
  records: number;
  paddedBytes: number;
  truncatedBytes: number;
  /** Directories used (see MAX_LOG_BYTES). */
  directories: number;
}

/**
 * One lane: `trials` kills in a row on one directory; a fresh directory once the log passes
 * MAX_LOG_BYTES (under flush 'none' it grows by hundreds of MiB a second: each large record and
 * each ordered record between chunks costs up to a chunk of padding), to keep each check short.
 */
async function lane(mode: 'sync' | 'none', trials: number): Promise<LaneResult> {
  const result: LaneResult = { failures: [], confirmed: 0, records: 0, paddedBytes: 0, truncatedBytes: 0, directories: 1 };
  const fail = (trial: number, what: string): void => void result.failures.push(`trial ${trial}: ${what}`);
  let dir = tempDir(`chunked-crash-${mode}`);
  let expected = new Array<number>(WRITERS).fill(0);
  let lastRecords = 0;
  try {
    for (let trial = 0; trial < trials && result.failures.length <= 5; trial++) {
      // Every other trial the log's preparer looks at chunks every 20 ms instead of 1 ms: chunks
      // stay open longer, so more of them are unfinished at the kill.
      const { confirmed, started } = await runAndKill(dir, mode, Math.floor(Math.random() * 250), trial % 2 === 1 ? 20 : undefined);
      if (started.join(' ') !== expected.join(' ')) fail(trial, `child found ${started.join(' ')} records per writer, expected ${expected.join(' ')}`);
      result.confirmed += confirmed.size;

      const log = CommitLog.open(dir, { segmentBytes: SEGMENT_BYTES });
      const recovery = log.recovery;
      if (recovery.corrupt.length) fail(trial, `corrupt ${JSON.stringify(recovery.corrupt)}`);
      result.paddedBytes += recovery.paddedBytes;
      result.truncatedBytes += recovery.truncatedBytes;
      const first = scan(log);
      first.failures.forEach((f) => fail(trial, f));
      const at = new Map(first.records.map(([p, w, s]) => [`${w}:${s}`, p]));
      for (const [key, p] of confirmed) {
        if (at.get(key) !== p) fail(trial, `confirmed w${key} at ${p} missing (found at ${at.get(key)})`);
      }
      const end = log.endPosition;
      log.close();

      // Recovery is idempotent: a second open repairs nothing and sees the same records.
      const again = CommitLog.open(dir, { segmentBytes: SEGMENT_BYTES, appendMode: 'chunked' });
      const r2 = again.recovery;
      if (r2.end !== end || r2.truncatedBytes !== 0 || r2.paddedBytes !== 0 || r2.corrupt.length !== 0) {
        fail(trial, `second open recovered again: ${JSON.stringify(r2)} (first end ${end})`);
      }
      const second = scan(again);
      if (JSON.stringify(second.records) !== JSON.stringify(first.records)) {
        fail(trial, `second open read ${second.records.length} records, first ${first.records.length}, or other positions`);
      }
      // Appending after recovery works, in 'chunked' mode; the next child must find the record.
      expected = new Array<number>(WRITERS).fill(0);
      for (const [, w, s] of first.records) expected[w] = s + 1;
      const payload = taggedPayload(PARENT_WRITER, expected[PARENT_WRITER]!);
      try {
        const p = again.append(payload);
        if (p < end) fail(trial, `append after recovery at ${p}, before the end ${end}`);
        if (!again.read(p).payload.equals(payload)) fail(trial, `append after recovery at ${p} reads back different bytes`);
        expected[PARENT_WRITER]!++;
      } catch (e) {
        fail(trial, `append after recovery failed: ${String(e)}`);
      }
      again.close();
      lastRecords = first.records.length + 1;
      if (end > MAX_LOG_BYTES && trial + 1 < trials) {
        removeDir(dir);
        dir = tempDir(`chunked-crash-${mode}`);
        expected = new Array<number>(WRITERS).fill(0);
        result.records += lastRecords;
        lastRecords = 0;
        result.directories++;
      }
    }
  } finally {
    removeDir(dir);
  }
  result.records += lastRecords;
  return result;
}

/** `trials` kills spread over LANES directories that run side by side (child start-up dominates). */
async function crashTrials(t: Test, mode: 'sync' | 'none', trials: number): Promise<void> {
  const lanes = Math.min(LANES, trials);
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: lanes }, (_, i) => lane(mode, Math.floor(trials / lanes) + (i < trials % lanes ? 1 : 0))));
  const failures = results.flatMap((r, i) => r.failures.map((f) => `lane ${i} ${f}`));
  const sum = (k: 'confirmed' | 'records' | 'paddedBytes' | 'truncatedBytes' | 'directories'): number => results.reduce((n, r) => n + r[k], 0);
  t.same(failures, [], 'after every kill: nothing corrupt, records whole and in sequence, confirmed records in place, recovery idempotent');
  t.ok(sum('confirmed') > trials, `${sum('confirmed')} confirmed records over ${trials} trials, ${sum('records')} records in ${sum('directories')} logs; ` +
    `recovery padded ${sum('paddedBytes')} B and truncated ${sum('truncatedBytes')} B in all; ${Date.now() - started} ms`);
}

const trials = Math.max(2, TRIALS);
t.test(`kill -9 during chunked + ordered flush 'sync' writes loses no confirmed record (${trials} trials)`, (t) =>
  crashTrials(t, 'sync', trials));
t.test(`kill -9 during chunked + ordered flush 'none' appends loses no appended record (${Math.max(2, Math.ceil(trials / 4))} trials)`, (t) =>
  crashTrials(t, 'none', Math.max(2, Math.ceil(trials / 4))));
