/**
 * Crash-campaign child for the Kafka engine: produces with acks 'all' and consumes with manual
 * commits until SIGKILLed. stdout lines:
 *   R                               engine open
 *   P <index> <partition> <offset>  send resolved (acks all: durable)
 *   K <partition> <offset>          commit resolved: the group's committed offset
 * Usage: kafka-crash-child.ts DATA_DIR START_INDEX
 */
import { KafkaEngine } from '../../core/kafka';
import { emit } from './emit';
import { KAFKA_TOPIC, KAFKA_GROUP, KAFKA_PARTITIONS } from './crash-setup';
import { patternPayload } from './record-pattern';

async function main(): Promise<void> {
  const [dir, startArg] = process.argv.slice(2);
  let next = Number(startArg);
  const engine = KafkaEngine.open(dir!, { retentionCheckIntervalMs: 0 });
  if (!engine.hasTopic(KAFKA_TOPIC)) engine.createTopic(KAFKA_TOPIC, { numPartitions: KAFKA_PARTITIONS, segmentBytes: 256 * 1024 });
  emit('R\n');
  const producer = engine.producer();
  const produce = async (): Promise<void> => {
    for (;;) {
      const n = 1 + Math.floor(Math.random() * 8);
      const messages = [];
      const first = next;
      for (let k = 0; k < n; k++) messages.push({ value: patternPayload(next++), partition: (first + k) % KAFKA_PARTITIONS });
      const meta = await producer.send({ topic: KAFKA_TOPIC, messages, acks: 'all' });
      // One result per partition; the messages of a partition got consecutive offsets in send order.
      let out = '';
      for (const m of meta) {
        let off = m.baseOffset;
        for (let k = 0; k < n; k++) if ((first + k) % KAFKA_PARTITIONS === m.partition) out += `P ${first + k} ${m.partition} ${off++}\n`;
      }
      emit(out);
    }
  };
  const consumer = engine.consumer({ groupId: KAFKA_GROUP, autoCommit: false, autoOffsetReset: 'earliest' });
  const tps = Array.from({ length: KAFKA_PARTITIONS }, (_, partition) => ({ topic: KAFKA_TOPIC, partition }));
  consumer.assign(tps);
  const consume = async (): Promise<void> => {
    for (;;) {
      await consumer.poll(20, 1 + Math.floor(Math.random() * 50));
      await consumer.commit();
      emit(tps.map((tp) => `K ${tp.partition} ${consumer.committed(tp)}\n`).join(''));
    }
  };
  await Promise.all([produce(), consume()]);
}

main().catch((e) => {
  process.stderr.write(`kafka crash child failed: ${String(e)}\n`);
  process.exit(3);
});

