import { canonical } from './canonical';
import { HeadersMatcher } from './headers-match';
import { TopicPattern } from './topic-pattern';
import type { ExchangeType, FieldTable } from './types';
import type { Queue } from './queue';

/** A queue bound to an exchange with a routing key (and arguments, for headers exchanges). */
export class Binding {
  readonly argsKey: string;
  readonly topic: TopicPattern | null;
  readonly headers: HeadersMatcher | null;

  constructor(
    readonly exchange: string,
    readonly queue: Queue,
    readonly routingKey: string,
    readonly args: FieldTable | undefined,
    type: ExchangeType,
  ) {
    this.argsKey = args ? canonical(args) : '';
    this.topic = type === 'topic' ? new TopicPattern(routingKey) : null;
    this.headers = type === 'headers' ? new HeadersMatcher(args) : null;
  }

  sameAs(queue: Queue, routingKey: string, argsKey: string): boolean {
    return this.queue === queue && this.routingKey === routingKey && this.argsKey === argsKey;
  }
}

const EMPTY: readonly Queue[] = Object.freeze([]);
/** Topic route cache bound; cleared wholesale when exceeded (routing keys are often few). */
const TOPIC_CACHE_MAX = 10_000;

/**
 * An exchange: its declaration and its bindings, and `route`, which maps a routing key (and
 * headers) to the queues that receive a copy. Direct and topic routes are cached per routing key,
 * so the hot path is one Map lookup whatever the exchange type; any binding change clears them.
 */
export class Exchange {
  readonly bindings: Binding[] = [];
  private direct = new Map<string, Queue[]>();
  private fanout: Queue[] = [];
  private topicCache = new Map<string, readonly Queue[]>();

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly alternateExchange: string | undefined,
    readonly args: FieldTable,
  ) {}

  /** True when an identical binding (same queue, routing key and arguments) exists. */
  has(binding: Binding): boolean {
    return this.bindings.some((b) => b.sameAs(binding.queue, binding.routingKey, binding.argsKey));
  }

  /** Returns false when an identical binding already exists (binding is idempotent). */
  bind(binding: Binding): boolean {
    if (this.bindings.some((b) => b.sameAs(binding.queue, binding.routingKey, binding.argsKey))) return false;
    this.bindings.push(binding);
    this.rebuild();
    return true;
  }

  unbind(queue: Queue, routingKey: string, args: FieldTable | undefined): Binding | undefined {
    const key = args ? canonical(args) : '';
    const i = this.bindings.findIndex((b) => b.sameAs(queue, routingKey, key));
    if (i < 0) return undefined;
    const [removed] = this.bindings.splice(i, 1);
    this.rebuild();
    return removed;
  }

  /** Drops every binding to `queue` (the queue was deleted). */
  unbindAll(queue: Queue): number {
    const before = this.bindings.length;
    for (let i = this.bindings.length - 1; i >= 0; i--) if (this.bindings[i]!.queue === queue) this.bindings.splice(i, 1);
    if (this.bindings.length !== before) this.rebuild();
    return before - this.bindings.length;
  }

  /** Queues for one routing key; the returned array must not be modified. */
  route(routingKey: string, headers: FieldTable | undefined): readonly Queue[] {
    switch (this.type) {
      case 'direct':
        return this.direct.get(routingKey) ?? EMPTY;
      case 'fanout':
        return this.fanout;
      case 'topic': {
        let hit = this.topicCache.get(routingKey);
        if (hit === undefined) {
          const out: Queue[] = [];
          for (const b of this.bindings) if (!out.includes(b.queue) && b.topic!.matches(routingKey)) out.push(b.queue);
          hit = out.length === 0 ? EMPTY : out;
          if (this.topicCache.size >= TOPIC_CACHE_MAX) this.topicCache.clear();
          this.topicCache.set(routingKey, hit);
        }
        return hit;
      }
      case 'headers': {
        const out: Queue[] = [];
        for (const b of this.bindings) if (!out.includes(b.queue) && b.headers!.matches(headers)) out.push(b.queue);
        return out;
      }
    }
  }

  private rebuild(): void {
    this.topicCache.clear();
    if (this.type === 'direct') {
      this.direct = new Map();
      for (const b of this.bindings) {
        const list = this.direct.get(b.routingKey);
        if (!list) this.direct.set(b.routingKey, [b.queue]);
        else if (!list.includes(b.queue)) list.push(b.queue);
      }
    } else if (this.type === 'fanout') {
      this.fanout = [];
      for (const b of this.bindings) if (!this.fanout.includes(b.queue)) this.fanout.push(b.queue);
    }
  }
}
