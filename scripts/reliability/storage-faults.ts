/**
 * Storage fault injection on closed logs: torn tails (a segment file cut mid-frame, or its tail
 * zeroed) and single bit flips in record frames. Each trial copies a reference log, damages the
 * copy, reopens it and classifies what a reader sees for every record written:
 *  - intact:   read back equal;
 *  - detected: ERR_CORRUPT with details.position = the damaged record (or listed in
 *              RecoveryReport.corrupt), or ERR_OUT_OF_RANGE at the damaged record when its length
 *              word was hit and it no longer looks like a record start;
 *  - cut:      gone because recovery treated the damage as a torn tail (the record and everything
 *              after it in the active segment are truncated);
 *  - silent:   read back with different bytes, or an unknown record returned: must never happen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { isMqlabError } from '../../core/errors';
import type { FlushPolicy } from '../../core/log/types';
import { patternIndex, patternPayload } from './record-pattern';

export const SEGMENT_HEADER = 64;

export interface ReferenceLog {
  dir: string;
  segmentBytes: number;
  records: Array<{ position: number; payload: Buffer }>;
  end: number;
}

export function writeReferenceLog(dir: string, count: number, segmentBytes: number, flush: FlushPolicy): ReferenceLog {
  const log = CommitLog.open(dir, { segmentBytes, flush });
  const records: ReferenceLog['records'] = [];
  for (let i = 0; i < count; i++) {
    const payload = patternPayload(i);
    records.push({ position: log.append(payload), payload });
  }
  if (flush !== 'none') log.flushSync();
  const end = log.endPosition;
  log.close();
  return { dir, segmentBytes, records, end };
}

export function segmentFiles(dir: string): Array<{ file: string; base: number }> {
  return fs.readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f)).sort().map((f) => ({ file: path.join(dir, f), base: Number(f.slice(0, 20)) }));
}

/** The segment file and file offset that hold log position `pos`. */
export function locatePosition(dir: string, pos: number): { file: string; offset: number; base: number; active: boolean } {
  const segs = segmentFiles(dir);
  let i = segs.length - 1;
  while (i > 0 && segs[i]!.base > pos) i--;
  return { file: segs[i]!.file, offset: SEGMENT_HEADER + pos - segs[i]!.base, base: segs[i]!.base, active: i === segs.length - 1 };
}

export function flipBit(file: string, offset: number, bit: number): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ (1 << bit);
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

export interface ReadOutcome {
  intact: number;
  detectedCrc: number;
  detectedNotRecord: number;
  cut: number;
  silent: number;
  /** Codes and positions of the errors that named the damaged record. */
  detections: Array<{ code: string; position: number }>;
  openError: string | null;
  recoveryCorrupt: Array<{ position: number }>;
  truncatedBytes: number;
  scanSilent: number;
}

/** Reopens `dir` and reads every reference record by position, plus a full scan. `damaged` = position of the hit record. */
export function classify(dir: string, ref: ReferenceLog, damaged: number): ReadOutcome {
  const out: ReadOutcome = { intact: 0, detectedCrc: 0, detectedNotRecord: 0, cut: 0, silent: 0, detections: [], openError: null, recoveryCorrupt: [], truncatedBytes: 0, scanSilent: 0 };
  let log: CommitLog;
  try {
    log = CommitLog.open(dir, { segmentBytes: ref.segmentBytes });
  } catch (e) {
    if (!isMqlabError(e)) throw e;
    out.openError = e.code;
    return out;
  }
  try {
    out.recoveryCorrupt = log.recovery.corrupt.map((c) => ({ position: c.position }));
    out.truncatedBytes = log.recovery.truncatedBytes;
    const end = log.endPosition;
    for (const r of ref.records) {
      try {
        const got = log.read(r.position);
        if (got.payload.equals(r.payload)) out.intact++;
        else out.silent++;
      } catch (e) {
        if (!isMqlabError(e)) throw e;
        const pos = (e.details as { position?: number } | undefined)?.position;
        if (r.position === damaged && e.code === 'ERR_CORRUPT' && pos === damaged) {
          out.detectedCrc++;
          out.detections.push({ code: e.code, position: pos });
        } else if (r.position === damaged && e.code === 'ERR_OUT_OF_RANGE' && r.position < end) {
          out.detectedNotRecord++;
          out.detections.push({ code: e.code, position: r.position });
        } else if (e.code === 'ERR_OUT_OF_RANGE' && r.position >= end) out.cut++;
        else out.silent++;  // an error about another record, or a wrong code: counted against us
      }
    }
    // A scan must never hand out a record that is not exactly one that was written.
    let pos = log.startPosition;
    for (;;) {
      let batch;
      try {
        batch = log.readBatch(pos, 64 * 1024);
      } catch (e) {
        if (!isMqlabError(e)) throw e;
        break;  // stops at the damaged record with a typed error
      }
      if (batch.records.length === 0) break;
      for (const r of batch.records) if (patternIndex(r.payload) < 0) out.scanSilent++;
      pos = batch.next;
    }
  } finally {
    log.close();
  }
  return out;
}

export function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) if (f !== 'lock') fs.copyFileSync(path.join(from, f), path.join(to, f));
}

export type FlipRegion = 'length' | 'crc' | 'timestamp' | 'payload';

export interface FlipTrial {
  region: FlipRegion;
  record: number;
  position: number;
  activeSegment: boolean;
  outcome: ReadOutcome;
}

/** One bit flip in record `k`'s frame (region chosen by `rng`), on a copy of the reference log. */
export function flipTrial(ref: ReferenceLog, work: string, rng: () => number): FlipTrial {
  fs.rmSync(work, { recursive: true, force: true });
  copyDir(ref.dir, work);
  const k = Math.floor(rng() * ref.records.length);
  const r = ref.records[k]!;
  const regions: FlipRegion[] = ['length', 'crc', 'timestamp', 'payload'];
  const region = regions[Math.floor(rng() * regions.length)]!;
  const within = region === 'length' ? Math.floor(rng() * 4) : region === 'crc' ? 4 + Math.floor(rng() * 4)
    : region === 'timestamp' ? 8 + Math.floor(rng() * 8) : 16 + Math.floor(rng() * r.payload.length);
  const at = locatePosition(work, r.position);
  flipBit(at.file, at.offset + within, Math.floor(rng() * 8));
  return { region, record: k, position: r.position, activeSegment: at.active, outcome: classify(work, ref, r.position) };
}

export interface TornTrial {
  kind: 'cut' | 'zero';
  /** Log position where the damage starts. */
  at: number;
  /** Records that must survive: those whose frames end before the damage (and fit the cut file). */
  expectedKept: number;
  outcome: ReadOutcome;
  /** Appends work after recovery and the next reopen keeps them. */
  resumed: boolean;
}

/**
 * A torn tail on a copy of the reference log: the active segment file cut at a random point
 * ('cut', as if the file system lost the tail) or everything from a random point zeroed ('zero',
 * as if pages never reached the disk). Records wholly before the damage must survive; the damaged
 * one and later ones are cut, none is returned damaged; appends resume after recovery.
 */
export function tornTrial(ref: ReferenceLog, work: string, kind: 'cut' | 'zero', rng: () => number): TornTrial {
  fs.rmSync(work, { recursive: true, force: true });
  copyDir(ref.dir, work);
  const segs = segmentFiles(work);
  const last = segs[segs.length - 1]!;
  const inLast = ref.records.filter((r) => r.position >= last.base);
  const lo = inLast.length ? inLast[0]!.position : last.base;
  const at = lo + Math.floor(rng() * (ref.end - lo + 1));
  const fileOffset = SEGMENT_HEADER + at - last.base;
  if (kind === 'cut') {
    // Keep at least a header and a minimal data area, as a file system would keep whole blocks.
    fs.truncateSync(last.file, Math.max(fileOffset, SEGMENT_HEADER + 32));
  } else {
    const size = fs.statSync(last.file).size;
    const fd = fs.openSync(last.file, 'r+');
    fs.writeSync(fd, Buffer.alloc(size - fileOffset), 0, size - fileOffset, fileOffset);
    fs.closeSync(fd);
  }
  // Survivors: frames wholly before `at`; after a cut they must also leave the 16-byte END marker room.
  const fileSize = fs.statSync(last.file).size;
  const limit = kind === 'cut' ? last.base + (fileSize - SEGMENT_HEADER) - 16 : Infinity;
  // A cut must leave the whole padded frame; zeros over the padding (already zero, outside the CRC) harm nothing.
  const frameEnd = (r: { position: number; payload: Buffer }) => r.position + (kind === 'cut' ? (16 + r.payload.length + 7) & ~7 : 16 + r.payload.length);
  const expectedKept = ref.records.filter((r) => frameEnd(r) <= at && frameEnd(r) <= limit).length;
  const outcome = classify(work, ref, -1);
  let resumed = false;
  if (!outcome.openError) {
    const log = CommitLog.open(work, { segmentBytes: ref.segmentBytes });
    const extra = Array.from({ length: 50 }, (_, i) => patternPayload(1_000_000 + i));
    const positions = extra.map((p) => log.append(p));
    log.close();
    const again = CommitLog.open(work, { segmentBytes: ref.segmentBytes });
    resumed = positions.every((p, i) => again.read(p).payload.equals(extra[i]!)) && again.recovery.corrupt.length === 0;
    again.close();
  }
  return { kind, at, expectedKept, outcome, resumed };
}
