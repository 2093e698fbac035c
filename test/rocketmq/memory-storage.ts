/**
 * An in-memory stand-in for core/log with the same contract, used by the RocketMQ tests to run
 * without the native addon. "Files" live in a map keyed by path, so reopening a path after
 * close() sees the same data (a broker restart); `forget(path)` deletes one (a lost file).
 */
import { MqlabError } from '../../core/errors';
import type { LogRecord } from '../../core/log/types';
import type { CommitLogLike, IndexFileLike, StorageProvider } from '../../core/rocketmq/storage';

const FRAME = 16;

interface LogState { records: Map<number, { payload: Buffer; timestamp: number; next: number }>; order: number[]; end: number }

export class MemoryStorage implements StorageProvider {
  readonly logs = new Map<string, LogState>();
  readonly indexes = new Map<string, { bytes: Buffer[]; entryBytes: number }>();

  forget(pathPrefix: string): void {
    for (const k of [...this.logs.keys()]) if (k.startsWith(pathPrefix)) this.logs.delete(k);
    for (const k of [...this.indexes.keys()]) if (k.startsWith(pathPrefix)) this.indexes.delete(k);
  }

  openCommitLog(dir: string, options: { clock?: () => number }): CommitLogLike {
    let st = this.logs.get(dir);
    if (!st) this.logs.set(dir, (st = { records: new Map(), order: [], end: 0 }));
    const state = st;
    const clock = options.clock ?? Date.now;
    let closed = false;
    const check = () => { if (closed) throw new MqlabError('ERR_CLOSED', 'log is closed'); };
    const rec = (pos: number): LogRecord => {
      const r = state.records.get(pos);
      if (!r) throw new MqlabError('ERR_OUT_OF_RANGE', `no record at ${pos}`, { position: pos });
      return { position: pos, next: r.next, timestamp: r.timestamp, payload: Buffer.from(r.payload) };
    };
    const log: CommitLogLike = {
      dir,
      get startPosition() { return 0; },
      get endPosition() { return state.end; },
      append(payload, timestamp) {
        check();
        const pos = state.end;
        const next = pos + FRAME + payload.length;
        state.records.set(pos, { payload: Buffer.from(payload), timestamp: timestamp ?? clock(), next });
        state.order.push(pos);
        state.end = next;
        return pos;
      },
      appendBatch(payloads, timestamp) {
        check();
        const first = state.end;
        for (const p of payloads) log.append(p, timestamp);
        return first;
      },
      read(position) { check(); return rec(position); },
      readBatch(position, maxBytes = 1 << 20, maxRecords = Infinity) {
        check();
        const records: LogRecord[] = [];
        let pos = position;
        let bytes = 0;
        while (pos < state.end && records.length < maxRecords) {
          const r = rec(pos);
          bytes += r.next - r.position;
          if (records.length > 0 && bytes > maxBytes) break;
          records.push(r);
          pos = r.next;
        }
        return { records, next: pos };
      },
      durable: async () => undefined,
      flushSync() { check(); },
      close() { closed = true; },
    };
    return log;
  }

  openIndexFile(path: string, options: { entryBytes: number }): IndexFileLike {
    let st = this.indexes.get(path);
    if (!st) this.indexes.set(path, (st = { bytes: [], entryBytes: options.entryBytes }));
    const state = st;
    const eb = options.entryBytes;
    return {
      get count() { return state.bytes.length; },
      append(entry) { state.bytes.push(Buffer.from(entry)); return state.bytes.length - 1; },
      appendMany(entries) {
        const first = state.bytes.length;
        for (let i = 0; i < entries.length; i += eb) state.bytes.push(Buffer.from(entries.subarray(i, i + eb)));
        return first;
      },
      read(i) {
        if (i < 0 || i >= state.bytes.length) throw new MqlabError('ERR_OUT_OF_RANGE', `no entry ${i}`);
        return Buffer.from(state.bytes[i]!);
      },
      readRange(from, count) { return Buffer.concat(state.bytes.slice(from, from + count)); },
      truncate(count) { state.bytes.length = Math.min(count, state.bytes.length); },
      flushSync() {},
      close() {},
    };
  }
}
