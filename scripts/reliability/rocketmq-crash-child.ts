/**
 * Crash-campaign child for the RocketMQ engine: one broker (flush 'sync'), sends to a topic's
 * queues, pulls and stores consumer offsets, persists them, and is SIGKILLed. stdout lines:
 *   R                                   broker started
 *   S <index> <queueId> <queueOffset>   sendMessage returned (appended to the CommitLog)
 *   O <queueId> <offset>                persist() returned with this consumer offset stored
 * Usage: rocketmq-crash-child.ts DATA_DIR START_INDEX
 */
import { emit } from './emit';
import { ROCKET_TOPIC, ROCKET_GROUP, ROCKET_QUEUES, openCrashBroker } from './crash-setup';
import { patternPayload } from './record-pattern';

async function main(): Promise<void> {
  const [dir, startArg] = process.argv.slice(2);
  let next = Number(startArg);
  const broker = openCrashBroker(dir!);
  if (!broker.topicList().includes(ROCKET_TOPIC)) broker.createTopic(ROCKET_TOPIC, ROCKET_QUEUES);
  emit('R\n');
  const consumed = new Array<number>(ROCKET_QUEUES).fill(-1);
  for (let q = 0; q < ROCKET_QUEUES; q++) {
    try {
      consumed[q] = Math.max(0, broker.queryConsumerOffset(ROCKET_GROUP, ROCKET_TOPIC, q));
    } catch {
      consumed[q] = 0;  // the group is created by its first pull
    }
  }
  const step = async (): Promise<void> => {
    let out = '';
    const n = 1 + Math.floor(Math.random() * 12);
    for (let k = 0; k < n; k++) {
      const i = next++;
      const queueId = i % ROCKET_QUEUES;
      const r = broker.sendMessage({ topic: ROCKET_TOPIC, queueId, messages: [{ topic: ROCKET_TOPIC, body: patternPayload(i), tags: 'T', keys: `k${i}` }] });
      out += `S ${i} ${queueId} ${r.queueOffset}\n`;
    }
    emit(out);
    const q = Math.floor(Math.random() * ROCKET_QUEUES);
    const res = await broker.pullMessage({ group: ROCKET_GROUP, topic: ROCKET_TOPIC, queueId: q, queueOffset: consumed[q]!, maxMsgNums: 16 });
    consumed[q] = res.nextBeginOffset;
    broker.updateConsumerOffset(ROCKET_GROUP, ROCKET_TOPIC, q, consumed[q]!);
    if (Math.random() < 0.3) {
      broker.persist();
      emit(consumed.map((o, qid) => `O ${qid} ${o}\n`).join(''));
    }
    setImmediate(() => void step().catch(fail));
  };
  const fail = (e: unknown): void => {
    process.stderr.write(`rocketmq crash child failed: ${String(e)}\n`);
    process.exit(3);
  };
  void step().catch(fail);
}

main().catch((e) => {
  process.stderr.write(`rocketmq crash child failed: ${String(e)}\n`);
  process.exit(3);
});

