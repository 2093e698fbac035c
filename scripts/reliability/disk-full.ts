/**
 * Disk full (ENOSPC) on a small tmpfs: append until the file system is full, check the error is a
 * typed ERR_NO_SPACE, that everything appended before is intact, and that appends resume once
 * space is freed. Needs root (mount); callers skip with the reason `mountTmpfs` returns.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMqlabError } from '../../core/errors';
import { CommitLog } from '../../core/log';
import { patternPayload } from './record-pattern';

export interface Tmpfs {
  dir: string;
  unmount(): void;
}

/** Mounts a tmpfs of `sizeBytes`; returns it, or the reason it could not. */
export function mountTmpfs(sizeBytes: number): Tmpfs | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    return `cannot mount a tmpfs (needs root): ${(r.stderr || r.error?.message || '').trim()}`;
  }
  return {
    dir,
    unmount: () => {
      // Lazy when busy (a file still open), so a failing test cannot leave the mount behind.
      if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
      try {
        fs.rmdirSync(dir);
      } catch {
        // Still busy: the lazy unmount detaches it; the empty directory stays in the temp dir.
      }
    },
  };
}

export interface DiskFullResult {
  appendedBeforeFull: number;
  errorCode: string | null;
  errorIsTyped: boolean;
  intactAfterFull: number;
  resumedAppends: number;
  intactAfterReopen: number;
}

/** Fills `dir` (on a small file system) through a CommitLog, then frees `filler` and appends again. */
export function diskFullTrial(dir: string, segmentBytes: number): DiskFullResult {
  const logDir = path.join(dir, 'log');
  const filler = path.join(dir, 'filler');
  const log = CommitLog.open(logDir, { segmentBytes, flush: 'none' });
  const written: Array<[number, number]> = [];
  const res: DiskFullResult = { appendedBeforeFull: 0, errorCode: null, errorIsTyped: false, intactAfterFull: 0, resumedAppends: 0, intactAfterReopen: 0 };
  // Take most of the remaining space with a plain file, so the log fills after a few segments.
  const { bavail, bsize } = fs.statfsSync(dir);
  const free = bavail * bsize;
  const fd = fs.openSync(filler, 'w');
  try {
    fs.writeSync(fd, Buffer.alloc(Math.max(0, free - 3 * segmentBytes)));
  } catch {
    // Already full enough.
  }
  fs.closeSync(fd);
  let i = 0;
  try {
    for (; i < 10_000_000; i++) written.push([i, log.append(patternPayload(i))]);
  } catch (e) {
    res.errorIsTyped = isMqlabError(e);
    res.errorCode = isMqlabError(e) ? e.code : String(e);
  }
  res.appendedBeforeFull = written.length;
  for (const [k, pos] of written) if (log.read(pos).payload.equals(patternPayload(k))) res.intactAfterFull++;
  fs.rmSync(filler);
  for (let k = 0; k < 2000; k++, i++) {
    written.push([i, log.append(patternPayload(i))]);
    res.resumedAppends++;
  }
  log.close();
  const again = CommitLog.open(logDir, { segmentBytes });
  for (const [k, pos] of written) if (again.read(pos).payload.equals(patternPayload(k))) res.intactAfterReopen++;
  again.close();
  return res;
}
