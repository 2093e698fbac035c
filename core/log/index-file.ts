/**
 * IndexFile: fixed-width entries in a growing memory-mapped file (Kafka offset/time indexes,
 * RocketMQ ConsumeQueue entries). Layout in native/index-file.h. One open IndexFile per path in
 * the whole machine (a second open gets ERR_LOCKED); it belongs to the thread that opened it.
 */
import * as path from 'node:path';
import { nativeAddon, type NativeIndexFile } from './native';
import { checkKnownKeys, checkObject, checkPath, optionalInteger, requiredInteger } from './validate';
import type { IndexFileOptions } from './types';

export class IndexFile {
  readonly path: string;
  readonly entryBytes: number;
  readonly #n: NativeIndexFile;

  private constructor(file: string, entryBytes: number, native: NativeIndexFile) {
    this.path = file;
    this.entryBytes = entryBytes;
    this.#n = native;
  }

  /** Opens `file`, creating it if missing; an existing file must have the same entryBytes. */
  static open(file: string, options: IndexFileOptions): IndexFile {
    const absolute = path.resolve(checkPath(file, 'path'));
    const o = checkObject(options, 'options');
    checkKnownKeys(o, 'options', ['entryBytes', 'growBytes']);
    const entryBytes = requiredInteger(o.entryBytes, 'options.entryBytes', 1, 65536);
    const growBytes = optionalInteger(o.growBytes, 'options.growBytes', Math.max(4096, entryBytes), 2 ** 30, 1024 * 1024);
    return new IndexFile(absolute, entryBytes, nativeAddon().openIndexFile(absolute, entryBytes, growBytes));
  }

  /** Entries written. */
  get count(): number {
    return this.#n.count();
  }

  /** `entry.length` must equal entryBytes; returns its index. */
  append(entry: Uint8Array): number {
    return this.#n.append(entry);
  }

  /** k * entryBytes bytes; returns the first index. */
  appendMany(entries: Uint8Array): number {
    return this.#n.appendMany(entries);
  }

  /** Copy of one entry; ERR_OUT_OF_RANGE past count. */
  read(index: number): Buffer {
    return this.#n.read(index);
  }

  /** Copy of up to `count` entries from `from` (fewer at the end). */
  readRange(from: number, count: number): Buffer {
    return this.#n.readRange(from, count);
  }

  /** Overwrites an existing entry. */
  write(index: number, entry: Uint8Array): void {
    this.#n.write(index, entry);
  }

  /** Drops entries >= count (no-op if count >= this.count). */
  truncate(count: number): void {
    this.#n.truncate(count);
  }

  /** Blocks until the entries are on stable storage. */
  flushSync(): void {
    this.#n.flushSync();
  }

  /** Idempotent; later calls get ERR_CLOSED. */
  close(): void {
    this.#n.close();
  }
}
