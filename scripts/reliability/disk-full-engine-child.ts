/**
 * Disk-full child for one engine: on DIR (a small tmpfs), writes through the engine's public API
 * until a write fails, and prints {writes, typed, code, message, intact}. Run in a child so that an
 * engine that lets the failure escape as an uncaught exception shows as a crashed process.
 * Usage: disk-full-engine-child.ts kafka|rabbitmq|rocketmq DIR
 */
import { isMqlabError } from '../../core/errors';
import { KafkaEngine } from '../../core/kafka';
import { RabbitEngine } from '../../core/rabbitmq';
import { Broker } from '../../core/rocketmq';
import { emit } from './emit';
import { patternIndex, patternPayload } from './record-pattern';

const [engine, dir] = process.argv.slice(2);
const result = { engine, writes: 0, typed: false, code: '', message: '', intact: 0, readable: 0 };

function failed(e: unknown): void {
  result.typed = isMqlabError(e);
  result.code = isMqlabError(e) ? e.code : (e as NodeJS.ErrnoException)?.code ?? String(e);
  result.message = String((e as Error)?.message ?? e).slice(0, 200);
}

async function main(): Promise<void> {
  if (engine === 'kafka') {
    const k = KafkaEngine.open(dir!, { retentionCheckIntervalMs: 0, segmentBytes: 256 * 1024 });
    k.createTopic('t', { numPartitions: 1, segmentBytes: 256 * 1024 });
    const p = k.producer();
    try {
      for (;;) {
        await p.send({ topic: 't', acks: 1, messages: [{ value: patternPayload(result.writes) }] });
        result.writes++;
      }
    } catch (e) {
      failed(e);
    }
    const c = k.consumer({ autoCommit: false });
    c.assign([{ topic: 't', partition: 0 }]);
    c.seekToBeginning();
    for (;;) {
      const recs = await c.poll(0, 5000);
      if (!recs.length) break;
      for (const r of recs) if (r.value && patternIndex(r.value) === r.offset) result.intact++;
    }
    k.close();
  } else if (engine === 'rabbitmq') {
    const r = RabbitEngine.open(dir!, { durability: 'sync', segmentBytes: 256 * 1024 } as never);
    const ch = await r.createConfirmChannel();
    await ch.assertQueue('q', { durable: true });
    try {
      for (;;) {
        ch.sendToQueue('q', patternPayload(result.writes), { persistent: true });
        await ch.waitForConfirms();
        result.writes++;
      }
    } catch (e) {
      failed(e);
    }
    const g = await r.createChannel();
    for (;;) {
      const m = await g.get('q', { noAck: false });
      if (!m) break;
      if (patternIndex(m.content) >= 0) result.intact++;
    }
    await r.close();
  } else {
    const b = new Broker({ dataDir: dir!, segmentBytes: 256 * 1024, maxMessageSize: 65536, persistIntervalMs: 0, scheduleIntervalMs: 0 } as never).start();
    b.createTopic('T', 1);
    try {
      for (;;) {
        b.sendMessage({ topic: 'T', queueId: 0, messages: [{ topic: 'T', body: patternPayload(result.writes) }] });
        result.writes++;
      }
    } catch (e) {
      failed(e);
    }
    b.dispatchNow();
    result.readable = b.getMaxOffset('T', 0);
    for (let off = 0; off < b.getMaxOffset('T', 0);) {
      const res = await b.pullMessage({ group: 'g', topic: 'T', queueId: 0, queueOffset: off, maxMsgNums: 32 });
      if (!res.msgFoundList.length) break;
      for (const m of res.msgFoundList) if (patternIndex(m.body) === m.queueOffset) result.intact++;
      off = res.nextBeginOffset;
    }
    b.shutdown();
  }
  emit(`${JSON.stringify(result)}\n`);
  // Stay alive a moment so a deferred failure (a flush in a later turn) shows as a crash.
  await new Promise((r) => setTimeout(r, 300));
  process.exit(0);
}

main().catch((e: unknown) => {
  failed(e);
  emit(`${JSON.stringify({ ...result, fatal: true })}\n`);
  process.exit(5);
});
