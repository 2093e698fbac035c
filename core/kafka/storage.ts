import * as fs from 'node:fs';
import { isMqlabError } from '../errors';
import type { CommitLogOptions, IndexFileOptions, LogRecord, RecoveryReport } from '../log/types';

/**
 * The slice of the storage core (core/log, see notes/core-log-api.md) the Kafka engine uses. Kept as
 * structural types so the engine reads as "what it needs from a log", and loaded from core/log.
 */
export interface PartitionLog {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  readonly startPosition: number;
  readonly endPosition: number;
  append(payload: Uint8Array, timestamp?: number): number;
  write(payload: Uint8Array, timestamp?: number): Promise<number>;
  durable(position?: number): Promise<void>;
  flushSync(): void;
  read(position: number): LogRecord;
  readBatch(position: number, maxBytes?: number, maxRecords?: number): { records: LogRecord[]; next: number };
  /** readBatch's frames copied into `target` (no allocation): bytes written, or minus the first frame's size if it does not fit. */
  readBatchInto(position: number, target: Uint8Array, maxBytes?: number, maxRecords?: number): number;
  /** The position after the last read's records. */
  readonly lastReadNext: number;
  applyRetention(now?: number): { deletedSegments: number; startPosition: number };
  /** Seals the active segment if it holds records (segment.ms). */
  roll(): boolean;
  readonly activeSegmentStart: number;
  close(): void;
}

export interface PartitionIndex {
  readonly entryBytes: number;
  readonly count: number;
  append(entry: Uint8Array): number;
  readRange(from: number, count: number): Buffer;
  truncate(count: number): void;
  flushSync(): void;
  close(): void;
}

interface LogModule {
  CommitLog: { open(dir: string, options?: CommitLogOptions): PartitionLog };
  IndexFile: { open(path: string, options: IndexFileOptions): PartitionIndex };
}

let logModule: LogModule | undefined;
function core(): LogModule {
  // Loaded on first use so the engine's pure parts (codec, assignors, coordinator) load without the addon.
  if (logModule === undefined) logModule = require('../log') as LogModule;
  return logModule;
}

export function openLog(dir: string, options: CommitLogOptions): PartitionLog {
  return core().CommitLog.open(dir, options);
}

/**
 * Opens a partition's offset or time index. An index is derived data: one the core rejects as
 * corrupt (cut shorter than its header, fewer entries than its header claims) is removed and
 * reopened empty, and the partition rebuilds it from its log as it does a missing one.
 */
export function openIndex(path: string, entryBytes: number): PartitionIndex {
  const options = { entryBytes, growBytes: 64 * 1024 };
  try {
    return core().IndexFile.open(path, options);
  } catch (e) {
    if (!isMqlabError(e, 'ERR_CORRUPT')) throw e;
    fs.rmSync(path, { force: true });
    return core().IndexFile.open(path, options);
  }
}
