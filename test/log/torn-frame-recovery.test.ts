/**
 * Recovery must not turn the payload of a torn record into records. A kill -9 during an append
 * leaves the frame's payload written and its real length word not yet stored (frame::write stores
 * it last). When that frame crosses a 64 KiB chunk boundary of the segment's data, recovery's
 * search for data after an unfinished chunk (dataAfterGap in native/log.cc, in a log with the
 * 'chunked' mark) could find payload bytes lying on the boundary that hold a valid frame (a
 * payload that embeds mqlab log data, e.g. a copied segment) and return it as a record nobody
 * appended. Only ordered frames (ordered appends, records over 32 KiB framed) cross a chunk
 * boundary; such a frame stores a reserved word (0xA7 << 24 | size / 8, native/frame.h) at its
 * start before its payload, and that is what the kill leaves there. The torn state is made
 * directly in the segment file, so the test is deterministic. Without the reserved word (a zero
 * word there) the chunked case returned {position 131072, 'INJECTED'}.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog, FRAME_HEADER_BYTES, frameBytes } from '../../core/log';
import { removeDir, tempDir } from './helpers';

const SEGMENT_HEADER_BYTES = 64;
const CHUNK_BYTES = 64 * 1024;

function onlySegment(dir: string): string {
  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
  if (logs.length !== 1) throw new Error(`expected one segment in ${dir}, found ${logs.join(', ')}`);
  return path.join(dir, logs[0]!);
}

/** The frame of record `payload` exactly as a log stores it. */
function frameImage(dir: string, payload: Buffer): Buffer {
  const log = CommitLog.open(dir, { segmentBytes: 1 << 20 });
  log.append(payload, 1234);
  log.close();
  return fs.readFileSync(onlySegment(dir)).subarray(SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES + frameBytes(payload.length));
}

for (const appendMode of ['ordered', 'chunked'] as const) {
  t.test(`a torn ${appendMode === 'ordered' ? '' : 'large (ordered-path) '}record whose payload embeds a frame at a chunk boundary is cut, not turned into records (${appendMode} handle)`, (t) => {
    const root = tempDir('torn-frame');
    t.teardown(() => removeDir(root));
    const image = frameImage(path.join(root, 'source'), Buffer.from('INJECTED'));
    const dir = path.join(root, 'log');
    const log = CommitLog.open(dir, { segmentBytes: 1 << 20, appendMode });
    const before = log.append(Buffer.from('kept'));
    log.flushSync();
    // A 100 KiB record starting at `at`: its payload holds the frame image where the next chunk
    // boundary of the segment's data falls, zeros after it.
    const at = log.endPosition;
    const payload = Buffer.alloc(100 * 1024, 0x33);
    const boundary = Math.ceil((at + FRAME_HEADER_BYTES) / CHUNK_BYTES) * CHUNK_BYTES;
    const inPayload = boundary - at - FRAME_HEADER_BYTES;
    image.copy(payload, inPayload);
    payload.fill(0, inPayload + image.length);
    t.equal(log.append(payload), at, 'the large record goes at the end');
    log.close();

    // What a kill -9 after the payload copy and before the length word store leaves: the reserved word.
    const reserved = Buffer.alloc(8);
    reserved.writeUInt32LE(((0xa7 << 24) | (frameBytes(payload.length) / 8)) >>> 0, 0);
    const fd = fs.openSync(onlySegment(dir), 'r+');
    fs.writeSync(fd, reserved, 0, 8, SEGMENT_HEADER_BYTES + at);
    fs.closeSync(fd);

    const again = CommitLog.open(dir, { segmentBytes: 1 << 20 });
    t.teardown(() => again.close());
    t.comment(`recovery: ${JSON.stringify(again.recovery)}`);
    const records = [...again.records()].map((r) => ({ position: r.position, payload: r.payload.toString('latin1') }));
    t.same(records, [{ position: before, payload: 'kept' }], 'only the record appended before the torn one');
    t.equal(again.recovery.end, at, 'the log ends where the torn record began');
    t.equal(again.recovery.paddedBytes, 0, 'nothing padded: no chunk was unfinished');
    t.end();
  });
}
