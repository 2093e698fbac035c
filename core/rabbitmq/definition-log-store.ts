import { existsSync, fsyncSync, openSync, closeSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Packr } from 'msgpackr';
import { CommitLog } from '../log';
import type { FlushPolicy } from '../log/types';
import { canonical } from './canonical';
import type { BindingDefinition, DefinitionStore, Definitions, ExchangeDefinition, QueueDefinition } from './store-types';

/**
 * Durable definitions (exchanges, queues, bindings) as an event log in the storage core: each
 * declaration or deletion is one msgpack record, replayed in order on open. Each event is
 * appended when the declaration returns (and flushed at once under durability 'sync').
 *
 * The log only grows, so on open, once it holds more than `compactAfter` records and more than
 * twice as many as there are live definitions, it is rewritten with one record per current
 * definition. The rewrite is crash-safe: the new log is written and synced in `<dir>.compact`,
 * then `<dir>` is renamed to `<dir>.old`, `<dir>.compact` to `<dir>`, and `<dir>.old` removed;
 * opening finishes or discards whichever step a crash interrupted (see `settleCompaction`).
 */
type DefinitionEvent =
  | { op: 'exchange'; def: ExchangeDefinition }
  | { op: 'exchange.delete'; name: string }
  | { op: 'queue'; def: QueueDefinition }
  | { op: 'queue.delete'; name: string }
  | { op: 'bind'; def: BindingDefinition }
  | { op: 'unbind'; def: BindingDefinition };

const packr = new Packr({ useRecords: false, moreTypes: true });

/** Default record count past which the definitions log is compacted on open. */
export const DEFAULT_COMPACT_AFTER = 10_000;

export class DefinitionLogStore implements DefinitionStore {
  private log: CommitLog;
  /** Records in the log as last loaded (before any compaction). */
  recordsAtLoad = 0;

  constructor(
    private readonly dir: string,
    private readonly flush: FlushPolicy,
    private readonly compactAfter = DEFAULT_COMPACT_AFTER,
  ) {
    settleCompaction(dir);
    this.log = openLog(dir, flush);
  }

  load(): Definitions {
    const defs = this.replay();
    const live = defs.exchanges.length + defs.queues.length + defs.bindings.length;
    if (this.recordsAtLoad > this.compactAfter && this.recordsAtLoad > 2 * live) this.compact(defs);
    return defs;
  }

  /**
   * Rewrites the log as one record per current definition (exchanges, queues, then bindings).
   * Compaction is an optimisation: if the new log cannot be written (a full disk), it is removed
   * and the engine opens on the old one, which the next open tries to compact again.
   */
  private compact(defs: Definitions): void {
    const next = `${this.dir}.compact`;
    try {
      rmSync(next, { recursive: true, force: true });
      const fresh = openLog(next, this.flush);
      try {
        for (const def of defs.exchanges) fresh.append(packr.pack({ op: 'exchange', def } satisfies DefinitionEvent));
        for (const def of defs.queues) fresh.append(packr.pack({ op: 'queue', def } satisfies DefinitionEvent));
        for (const def of defs.bindings) fresh.append(packr.pack({ op: 'bind', def } satisfies DefinitionEvent));
        fresh.flushSync();
      } finally {
        fresh.close();
      }
      syncDir(next);
    } catch {
      rmSync(next, { recursive: true, force: true });
      return;
    }
    this.log.close();
    renameSync(this.dir, `${this.dir}.old`);
    renameSync(next, this.dir);
    syncDir(dirname(this.dir));
    rmSync(`${this.dir}.old`, { recursive: true, force: true });
    this.log = openLog(this.dir, this.flush);
  }

  private replay(): Definitions {
    let count = 0;
    const exchanges = new Map<string, ExchangeDefinition>();
    const queues = new Map<string, QueueDefinition>();
    const bindings = new Map<string, BindingDefinition>();
    for (const record of this.log.records()) {
      count++;
      const ev = packr.unpack(record.payload) as DefinitionEvent;
      switch (ev.op) {
        case 'exchange':
          exchanges.set(ev.def.name, ev.def);
          break;
        case 'exchange.delete':
          exchanges.delete(ev.name);
          for (const [k, b] of bindings) if (b.exchange === ev.name) bindings.delete(k);
          break;
        case 'queue':
          queues.set(ev.def.name, ev.def);
          break;
        case 'queue.delete':
          queues.delete(ev.name);
          for (const [k, b] of bindings) if (b.queue === ev.name) bindings.delete(k);
          break;
        case 'bind':
          bindings.set(bindingKey(ev.def), ev.def);
          break;
        case 'unbind':
          bindings.delete(bindingKey(ev.def));
          break;
      }
    }
    this.recordsAtLoad = count;
    return { exchanges: [...exchanges.values()], queues: [...queues.values()], bindings: [...bindings.values()] };
  }

  private write(ev: DefinitionEvent): void {
    this.log.append(packr.pack(ev));
    if (this.flush === 'sync') this.log.flushSync();
  }

  putExchange(def: ExchangeDefinition): void {
    this.write({ op: 'exchange', def });
  }
  deleteExchange(name: string): void {
    this.write({ op: 'exchange.delete', name });
  }
  putQueue(def: QueueDefinition): void {
    this.write({ op: 'queue', def });
  }
  deleteQueue(name: string): void {
    this.write({ op: 'queue.delete', name });
  }
  bind(def: BindingDefinition): void {
    this.write({ op: 'bind', def });
  }
  unbind(def: BindingDefinition): void {
    this.write({ op: 'unbind', def });
  }
  close(): void {
    this.log.close();
  }
}

function bindingKey(b: BindingDefinition): string {
  return `${b.exchange}\u0000${b.queue}\u0000${b.routingKey}\u0000${b.args ? canonical(b.args) : ''}`;
}

function openLog(dir: string, flush: FlushPolicy): CommitLog {
  return CommitLog.open(dir, { segmentBytes: 1024 * 1024, flush });
}

/**
 * Finishes or rolls back a compaction a crash interrupted. `<dir>.compact` is complete only once
 * `<dir>` has been renamed away (it is synced before that rename), so: no `<dir>` but a
 * `.compact` → the compacted log becomes `<dir>`; no `<dir>` and no `.compact` but an `.old` →
 * the old log comes back; `<dir>` present → any `.compact` (unfinished) or `.old` (already
 * replaced) is removed.
 */
export function settleCompaction(dir: string): void {
  const next = `${dir}.compact`;
  const old = `${dir}.old`;
  if (!existsSync(dir)) {
    if (existsSync(next)) renameSync(next, dir);
    else if (existsSync(old)) renameSync(old, dir);
  }
  rmSync(next, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
