/** Writes to stdout synchronously (it may be a non-blocking pipe): a crash child's report must be out before it says more. */
import * as fs from 'node:fs';

export function emit(text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
