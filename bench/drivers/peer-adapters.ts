/**
 * The same workload through mqlab's real-broker adapters (conformance/adapters/real/), so the
 * results file holds mqlab's client path next to the brokers' own tools:
 *   peer.<broker>.adapter-e2e.100B   a consumer started first, then N messages of 100 bytes sent
 *                                    (Kafka: batches of 100, acks 1; RabbitMQ: publishes without
 *                                    confirms, auto-ack push consumer; RocketMQ: 16 sends in
 *                                    flight, CLUSTERING consumer settling each message); rate =
 *                                    N / (first send .. last receipt).
 */
import { MqlabError } from '../../core/errors';
import { createAdapter as kafkaAdapter } from '../../conformance/adapters/real/kafka';
import { createAdapter as rabbitAdapter } from '../../conformance/adapters/real/rabbitmq';
import { createAdapter as rocketAdapter } from '../../conformance/adapters/real/rocketmq';
import { MESSAGE_BYTES, uniqueName } from './peer-tools';

const BODY = Buffer.alloc(MESSAGE_BYTES, 120);

async function until(deadlineMs: number, what: string, done: () => boolean, step: () => Promise<void>): Promise<void> {
  while (!done()) {
    if (Date.now() > deadlineMs) throw new MqlabError('ERR_TIMEOUT', `${what} did not finish in time`);
    await step();
  }
}

export async function kafkaAdapterRun(count: number, timeLimitMs: number): Promise<number> {
  const adapter = await kafkaAdapter({ url: 'kafka://127.0.0.1:9092' });
  try {
    const topic = uniqueName('mqlab-adapter-');
    await adapter.createTopic(topic, { partitions: 1 });
    const consumer = await adapter.consumer({ groupId: `${topic}-g`, autoOffsetReset: 'earliest' });
    await consumer.subscribe([topic]);
    const producer = await adapter.producer({ acks: 1 });
    const deadline = Date.now() + timeLimitMs;
    let received = 0;
    const t0 = process.hrtime.bigint();
    const consuming = until(deadline, 'kafka adapter consume', () => received >= count, async () => {
      received += (await consumer.poll({ maxRecords: 5000, timeoutMs: 100 })).length;
    });
    for (let i = 0; i < count; i += 100) {
      const n = Math.min(100, count - i);
      await producer.send(topic, Array.from({ length: n }, (_, j) => ({ id: `m${i + j}`, value: BODY })));
    }
    await consuming;
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    await producer.close();
    await consumer.close();
    await adapter.deleteTopic(topic).catch(() => undefined);
    return count / sec;
  } finally {
    await adapter.close();
  }
}

export async function rabbitAdapterRun(count: number, timeLimitMs: number): Promise<number> {
  const adapter = await rabbitAdapter({ url: 'amqp://127.0.0.1:5672' });
  try {
    const queue = uniqueName('mqlab-adapter-');
    const pub = await adapter.openChannel();
    const sub = await adapter.openChannel();
    await pub.assertQueue(queue, { durable: false, autoDelete: false });
    let received = 0;
    await sub.consume(queue, () => { received++; }, { noAck: true });
    const deadline = Date.now() + timeLimitMs;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await pub.publish('', queue, { id: `m${i}`, body: BODY });
    await until(deadline, 'rabbitmq adapter consume', () => received >= count, () => new Promise((r) => setTimeout(r, 2)));
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    await pub.deleteQueue(queue).catch(() => undefined);
    await pub.close();
    await sub.close();
    return count / sec;
  } finally {
    await adapter.close();
  }
}

export async function rocketAdapterRun(count: number, timeLimitMs: number): Promise<number> {
  const adapter = await rocketAdapter({ url: 'rocketmq://127.0.0.1:9876' });
  try {
    const topic = uniqueName('mqlabadapter');
    await adapter.createTopic(topic, { queues: 4 });
    const consumer = await adapter.consumer({ group: `${topic}_g`, model: 'CLUSTERING', instanceName: 'bench', consumeFrom: { from: 'first' } });
    await consumer.subscribe(topic, '*');
    await consumer.start();
    const producer = await adapter.producer({ group: `${topic}_pg` });
    const deadline = Date.now() + timeLimitMs;
    let received = 0;
    const t0 = process.hrtime.bigint();
    const consuming = until(deadline, 'rocketmq adapter consume', () => received >= count, async () => {
      const got = await consumer.receive({ maxMessages: 256, timeoutMs: 100 });
      for (const m of got) await consumer.settle(m, 'CONSUME_SUCCESS');
      received += got.length;
    });
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = next++; i < count; i = next++) await producer.send({ id: `m${i}`, topic, body: BODY });
    }));
    await consuming;
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    await producer.close();
    await consumer.shutdown();
    return count / sec;
  } finally {
    await adapter.close();
  }
}
