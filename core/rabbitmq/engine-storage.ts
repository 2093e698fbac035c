import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileNameFor } from '../names';
import { DefinitionLogStore } from './definition-log-store';
import { QueueLogStore } from './queue-log-store';
import type { EngineStorage, EngineStorageOptions, EntryFactory, QueueStore } from './store-types';

/**
 * Where a persistent engine keeps things, all through the storage core:
 *
 *   <dataDir>/definitions/          CommitLog of durable declarations
 *   <dataDir>/queues/<name>/log/    CommitLog of the queue's persistent messages
 *   <dataDir>/queues/<name>/acks.idx  ack index (one entry per message record)
 *
 * Queue names become directory names only through core/names.ts `fileNameFor`.
 */

const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;

export function openEngineStorage(dataDir: string, options: EngineStorageOptions): EngineStorage {
  mkdirSync(join(dataDir, 'queues'), { recursive: true });
  const definitions = new DefinitionLogStore(join(dataDir, 'definitions'), options.durability, options.compactDefinitionsAfter);
  const open = new Set<QueueStore>();
  return {
    definitions,
    openQueue(name: string, onDirty: (store: QueueStore) => void, makeEntry: EntryFactory, fresh: boolean): QueueStore {
      const dir = join(dataDir, 'queues', fileNameFor(name));
      if (fresh) rmSync(dir, { recursive: true, force: true });
      let store: QueueLogStore;
      try {
        store = new QueueLogStore(dir, { segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, flush: options.durability, clock: options.clock }, onDirty, makeEntry);
      } catch (e) {
        if (fresh) rmSync(dir, { recursive: true, force: true });
        throw e;
      }
      open.add(store);
      return store;
    },
    close(): void {
      for (const s of open) s.close();
      open.clear();
      definitions.close();
    },
  };
}
