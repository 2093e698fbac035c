import type { CommitLogOptions, IndexFileOptions, LogRecord } from '../log/types';

/**
 * The part of the storage core (core/log) the broker uses, as interfaces, so the broker can be
 * handed the core's classes or a stand-in in tests.
 */
export interface CommitLogLike {
  readonly dir: string;
  readonly startPosition: number;
  readonly endPosition: number;
  append(payload: Uint8Array, timestamp?: number): number;
  appendBatch(payloads: readonly Uint8Array[], timestamp?: number): number;
  /** Records laid end to end in `bytes`, record i `lengths[i]` bytes, in one call (optional: stand-ins may lack it). */
  appendPacked?(bytes: Uint8Array, lengths: Uint32Array, timestamp?: number): number;
  read(position: number): LogRecord;
  readBatch(position: number, maxBytes?: number, maxRecords?: number): { records: LogRecord[]; next: number };
  durable(position?: number): Promise<void>;
  flushSync(): void;
  close(): void;
}

export interface IndexFileLike {
  readonly count: number;
  append(entry: Uint8Array): number;
  appendMany(entries: Uint8Array): number;
  read(index: number): Buffer;
  readRange(from: number, count: number): Buffer;
  truncate(count: number): void;
  flushSync(): void;
  close(): void;
}

export interface StorageProvider {
  openCommitLog(dir: string, options: CommitLogOptions): CommitLogLike;
  openIndexFile(path: string, options: IndexFileOptions): IndexFileLike;
  /** Bytes a payload of this size takes in the log (frame included), so batch positions are known. */
  framedSize?(payloadBytes: number): number;
}

/** The storage core (native mmap log). */
export function coreStorage(): StorageProvider {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const log = require('../log') as {
    CommitLog: { open(dir: string, o?: CommitLogOptions): CommitLogLike };
    IndexFile: { open(path: string, o: IndexFileOptions): IndexFileLike };
    frameBytes(payloadBytes: number): number;
  };
  return {
    openCommitLog: (dir, options) => log.CommitLog.open(dir, options),
    openIndexFile: (path, options) => log.IndexFile.open(path, options),
    // A batch is contiguous (core/log/frame-layout.ts); the broker checks the sum against
    // endPosition after each batch.
    framedSize: log.frameBytes,
  };
}
