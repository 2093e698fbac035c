/**
 * The storage core's public contract (implemented by CommitLog and IndexFile in this folder,
 * over the native addon). Engines in core/kafka, core/rabbitmq and core/rocketmq use only this.
 *
 * Positions are byte positions in the whole log (segment base + offset in segment); they only
 * grow, and a record's position never changes. Stages of a record, as in lmdb-js:
 *   appended  — `append` returned its position; readable in this process at once;
 *   durable   — on stable storage (survives a machine crash): `durable()` resolved for it.
 */
export type FlushPolicy = 'none' | 'async' | 'sync';

/** How this handle's `append` takes space in the log (see CommitLogOptions.appendMode). */
export type AppendMode = 'ordered' | 'chunked';

export interface RetentionOptions {
  /** Delete whole segments whose newest record is older than this (ms). Default: keep forever. */
  maxAgeMs?: number;
  /** Delete oldest whole segments while the log is larger than this. Default: unbounded. */
  maxBytes?: number;
}

export interface CommitLogOptions {
  /** Segment file size (bytes); each segment is preallocated and mapped. Default 64 MiB. */
  segmentBytes?: number;
  /** Largest payload accepted by append (bytes). Default 4 MiB. */
  maxRecordBytes?: number;
  /** Default 'none'. See docs/api.md for what each policy promises. */
  flush?: FlushPolicy;
  /** 'async': flush at least this often (ms). Default 1000. */
  flushIntervalMs?: number;
  /** 'async': flush when this many bytes are unflushed. Default 16 MiB. */
  flushBytes?: number;
  retention?: RetentionOptions;
  /** Clock for record timestamps and retention (ms since epoch). Default Date.now. */
  clock?: () => number;
  /**
   * This handle's `append` (per handle: other threads' handles on the same log choose their own).
   * - 'ordered' (default): every append takes the log's append lock; positions follow call order
   *   across all threads and a record is readable as soon as `append` returns.
   * - 'chunked': for several threads appending at full speed. The handle reserves the log up to
   *   64 KiB at a time and fills its chunk without the lock, so threads share no cache line per append.
   *   A thread's records keep their order; threads interleave chunk by chunk. A record becomes
   *   readable (and endPosition passes it) once its chunk is published up to it (every ~1 ms
   *   while it is the only open chunk, or when a read or sync needs it) and every chunk before it
   *   is sealed (when full, idle ~1 ms or open ~10 ms while another chunk waits behind it, when a
   *   read or sync needs it, or at close). The unused end of a sealed chunk is padding that
   *   readers step over. Records over 32 KiB framed, appendBatch and appendPacked go the ordered way.
   */
  appendMode?: AppendMode;
}

export interface LogRecord {
  position: number;
  /** Position of the next record (position + framed size). */
  next: number;
  /** ms since epoch, from `append`'s timestamp argument or the clock. */
  timestamp: number;
  payload: Buffer;
}

export interface RecoveryReport {
  /** Byte position where the valid log ends after recovery. */
  end: number;
  /** Bytes cut from the tail (torn or partial frames after a crash). */
  truncatedBytes: number;
  /** Unfinished chunks of 'chunked' appenders found before later data, padded so that data stays. */
  paddedBytes: number;
  /** Bad frames found before the tail (bit rot): reported, never skipped silently. Reading them
   *  fails with ERR_CORRUPT; `next` is where reading can resume after the damage. */
  corrupt: Array<{ segment: string; position: number; reason: string; next?: number }>;
}

export interface IndexFileOptions {
  /** Bytes per entry (e.g. 20 for a RocketMQ ConsumeQueue, 12 for a Kafka offset index). */
  entryBytes: number;
  /** Growth step of the mapped file (bytes). Default 1 MiB. */
  growBytes?: number;
}
