import { Packr } from 'msgpackr';
import { CommitLog } from '../log';
import type { FlushPolicy } from '../log/types';
import { canonical } from './canonical';
import type { BindingDefinition, DefinitionStore, Definitions, ExchangeDefinition, QueueDefinition } from './store-types';

/**
 * Durable definitions (exchanges, queues, bindings) as an event log in the storage core: each
 * declaration or deletion is one msgpack record, replayed in order on open. Each event is
 * appended when the declaration returns (and flushed at once under durability 'sync').
 */
type DefinitionEvent =
  | { op: 'exchange'; def: ExchangeDefinition }
  | { op: 'exchange.delete'; name: string }
  | { op: 'queue'; def: QueueDefinition }
  | { op: 'queue.delete'; name: string }
  | { op: 'bind'; def: BindingDefinition }
  | { op: 'unbind'; def: BindingDefinition };

const packr = new Packr({ useRecords: false, moreTypes: true });

export class DefinitionLogStore implements DefinitionStore {
  private readonly log: CommitLog;

  constructor(dir: string, private readonly flush: FlushPolicy) {
    this.log = CommitLog.open(dir, { segmentBytes: 1024 * 1024, flush });
  }

  load(): Definitions {
    const exchanges = new Map<string, ExchangeDefinition>();
    const queues = new Map<string, QueueDefinition>();
    const bindings = new Map<string, BindingDefinition>();
    for (const record of this.log.records()) {
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
