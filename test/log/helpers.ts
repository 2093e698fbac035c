/** Shared helpers for the storage-core tests: temporary directories and error assertions. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMqlabError } from '../../core/errors';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mqlab-${prefix}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs fn and returns the MqlabError code it threw, or 'no error'. Other errors are rethrown. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMqlabError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

export function payloadFor(i: number, size = 20): Buffer {
  const b = Buffer.alloc(size);
  b.write(`record-${i}-`.padEnd(size, String.fromCharCode(97 + (i % 26))).slice(0, size));
  return b;
}
