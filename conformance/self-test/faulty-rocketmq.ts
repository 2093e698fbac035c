/**
 * A broker-model adapter that wraps the in-memory example and breaks one rule. Faults:
 *  - drop:            some messages are settled behind the consumer's back, never handed out -> lost
 *  - duplicate:       some messages are handed out twice                                    -> duplicate
 *  - cluster-as-broadcast: every member of a CLUSTERING group gets every message            -> cluster-double-delivery
 *  - broadcast-as-cluster: BROADCASTING members split the messages                          -> broadcast-member-missed
 *  - ignore-tags:     subscriptions behave as '*'                                           -> tag-filter-leak
 *  - never-retry:     RECONSUME_LATER is treated as CONSUME_SUCCESS                         -> missing-redelivery
 *  - ignore-max-reconsume: retries go on past maxReconsumeTimes                             -> redelivery-past-limit
 */
import type { AdapterOptions } from '../adapters/common';
import type { BrokerAdapter, BrokerConsumer, BrokerConsumerOptions, ConsumeStatus, ReceivedMessage, ReceiveOptions } from '../adapters/broker-model';
import { MemoryRocketAdapter } from '../adapters/memory/rocketmq';
import { faultOf, hits } from './fault-plan';

export const ROCKETMQ_FAULTS = ['drop', 'duplicate', 'cluster-as-broadcast', 'broadcast-as-cluster', 'ignore-tags', 'never-retry', 'ignore-max-reconsume'] as const;
export type RocketmqFault = (typeof ROCKETMQ_FAULTS)[number];

class FaultyConsumer implements BrokerConsumer {
  constructor(private readonly inner: BrokerConsumer, private readonly fault: RocketmqFault) {}
  subscribe(topic: string, expression: string) {
    return this.inner.subscribe(topic, this.fault === 'ignore-tags' ? '*' : expression);
  }
  start() {
    return this.inner.start();
  }
  async receive(o: ReceiveOptions): Promise<ReceivedMessage[]> {
    const ms = await this.inner.receive(o);
    if (this.fault === 'drop') {
      const out: ReceivedMessage[] = [];
      for (const m of ms) {
        if (hits(m.id, 7) && m.reconsumeTimes === 0) await this.inner.settle(m, 'CONSUME_SUCCESS');
        else out.push(m);
      }
      return out;
    }
    if (this.fault === 'duplicate') return ms.flatMap((m) => (hits(m.id, 5) && m.reconsumeTimes === 0 ? [m, m] : [m]));
    return ms;
  }
  settle(m: ReceivedMessage, status: ConsumeStatus) {
    return this.inner.settle(m, this.fault === 'never-retry' ? 'CONSUME_SUCCESS' : status);
  }
  shutdown() {
    return this.inner.shutdown();
  }
  crash() {
    return this.inner.crash();
  }
}

export function createAdapter(options: AdapterOptions): BrokerAdapter {
  const fault = faultOf(options, ROCKETMQ_FAULTS);
  const inner = new MemoryRocketAdapter();
  const consumerOptions = (o: BrokerConsumerOptions): BrokerConsumerOptions => {
    if (fault === 'cluster-as-broadcast' && o.model === 'CLUSTERING') return { ...o, model: 'BROADCASTING' };
    if (fault === 'broadcast-as-cluster' && o.model === 'BROADCASTING') return { ...o, model: 'CLUSTERING' };
    if (fault === 'ignore-max-reconsume') return { ...o, maxReconsumeTimes: (o.maxReconsumeTimes ?? 16) + 2 };
    return o;
  };
  return {
    info: { ...inner.info, name: `faulty(${fault}) in-memory broker adapter` },
    createTopic: (t, s) => inner.createTopic(t, s),
    route: (t) => inner.route(t),
    producer: (o) => inner.producer(o),
    consumer: async (o) => new FaultyConsumer(await inner.consumer(consumerOptions(o)), fault),
    queryById: (t, id) => inner.queryById(t, id),
    queryByKey: (t, k) => inner.queryByKey(t, k),
    advanceTime: (ms) => inner.advanceTime(ms),
    close: () => inner.close(),
  };
}
