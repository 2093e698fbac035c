/**
 * Loads the C++ addon (build/Release/mqlab_native.node) once per JS environment and hands it the
 * MqlabError class, so errors thrown in C++ are MqlabErrors with a code. Worker threads load it
 * again; the addon keeps per-environment state and cleans it up when the worker exits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MqlabError } from '../errors';

/** One thread's handle on a native log; functions are bound to it (see native/js-log.cc). */
export interface NativeLog {
  append(payload: Uint8Array, timestamp?: number): number;
  appendBatch(payloads: readonly Uint8Array[], timestamp?: number): number;
  /** `count` (default: all, summing exactly to bytes.length) records laid end to end in `bytes`. */
  appendPacked(bytes: Uint8Array, lengths: Uint32Array, count?: number, timestamp?: number): number;
  /** Writes [timestamp, next] into the scratch array; a payload that fits in scratchBytes is copied
   *  there and its length returned, a larger one is returned as its own Buffer. */
  read(position: number): Buffer | number;
  /** Raw verified frames; writes next into scratch[1]. */
  readBatch(position: number, maxBytes: number, maxRecords: number): Buffer;
  /** readBatch into the caller's `target`: bytes written (next in scratch[1]), or minus the first frame's size if it does not fit. */
  readBatchInto(position: number, maxBytes: number, maxRecords: number, target: Uint8Array): number;
  requestDurable(position: number): void;
  idle(): void;
  flushSync(): void;
  applyRetention(now: number, maxAgeMs: number, maxBytes: number): number;
  startPosition(): number;
  segmentCount(): number;
  roll(): boolean;
  activeSegmentBase(): number;
  /** Past every frame and chunk handed out (endPosition stops at the oldest open chunk). */
  tailPosition(): number;
  close(): void;
  readonly recovery: { end: number; truncatedBytes: number; paddedBytes: number; corrupt: Array<{ segment: string; position: number; reason: string; next: number }> };
  /** [end, start, durable], written by the log, read without a native call. */
  readonly counters: Float64Array;
}

export interface NativeIndexFile {
  count(): number;
  append(entry: Uint8Array): number;
  appendMany(entries: Uint8Array): number;
  read(index: number): Buffer;
  readRange(from: number, count: number): Buffer;
  write(index: number, entry: Uint8Array): void;
  truncate(count: number): void;
  flushSync(): void;
  close(): void;
}

export interface NativeAddon {
  init(errorClass: typeof MqlabError): void;
  crc32c(data: Uint8Array): number;
  /** The checksum of a record frame as append computes it (for tests). */
  crc32cFrame(word0: number, timestamp: number, payload: Uint8Array): number;
  /** The table implementation, whatever the CPU has (for tests). */
  crc32cPortable(data: Uint8Array): number;
  readonly crc32cHardware: boolean;
  openLog(dir: string, segmentBytes: number, maxRecordBytes: number, flush: number, flushIntervalMs: number,
    flushBytes: number, scratch: Float64Array, onDurable: (durable: number, error?: string) => void, scratchBytes: Uint8Array,
    appendMode?: number): NativeLog;
  openIndexFile(path: string, entryBytes: number, growBytes: number): NativeIndexFile;
  benchFrameCopy(dir: string, payloadBytes: number, count: number): number;
}

function findAddon(): string {
  const tried: string[] = [];
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    for (const kind of ['Release', 'Debug']) {
      const file = path.join(dir, 'build', kind, 'mqlab_native.node');
      tried.push(file);
      if (fs.existsSync(file)) return file;
    }
  }
  throw new MqlabError('ERR_IO', `the native addon is not built (run \`npm run build:native\`); looked for ${tried.slice(0, 2).join(', ')}`);
}

let loaded: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (!loaded) {
    const addon = require(findAddon()) as NativeAddon;
    addon.init(MqlabError);
    loaded = addon;
  }
  return loaded;
}
