/**
 * Cross-model: offset resume. A consumer that stops (cleanly or by crashing) and is replaced
 * resumes where its group's settled position was: nothing settled comes back (beyond what the
 * model allows after a crash), nothing unsettled is skipped, nothing is lost.
 */
import type { ConsumedRecord, TopicPartitionOffset } from '../../adapters/log-model';
import type { ReceivedMessage } from '../../adapters/broker-model';
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck, type CheckContext } from '../framework/check';
import { drainBroker, drainLog, drainPush } from '../framework/drain';
import type { RecordingLogConsumer } from '../recording/recording-log';

async function produceLog(ctx: CheckContext<'kafka'>, topic: string, n: number): Promise<void> {
  const producer = await ctx.adapter.producer({ acks: 'all' });
  for (let i = 0; i < n; i += 20) {
    await producer.send(topic, Array.from({ length: Math.min(20, n - i) }, () => ({ id: ctx.id(), key: `k${ctx.rng.int(32)}`, value: 'v' })));
  }
  await producer.close();
}

/** Polls until `n` records arrived (or the consumer stays empty for the idle time). */
async function pollAtLeast(ctx: CheckContext<'kafka'>, c: RecordingLogConsumer, n: number): Promise<ConsumedRecord[]> {
  const got: ConsumedRecord[] = [];
  let quiet = Date.now();
  while (got.length < n && Date.now() - quiet < ctx.scale.idleMs * 4) {
    const rs = await c.poll({ maxRecords: Math.min(50, n - got.length), timeoutMs: 50 });
    if (rs.length > 0) quiet = Date.now();
    got.push(...rs);
  }
  return got;
}

function logResume(crash: boolean) {
  return defineCheck({
    name: crash ? 'offset-resume/crash-redelivers-uncommitted' : 'offset-resume/close-then-resume',
    model: 'kafka',
    description: crash
      ? 'after a consumer crash, its group resumes at the last commit: uncommitted records come again, committed ones do not, none is skipped'
      : 'after a clean close with a commit, the next member resumes exactly at the committed offset',
    requires: ['consumer-groups', 'manual-commit', 'auto-offset-reset', ...(crash ? (['consumer-crash'] as const) : [])],
    async run(ctx) {
      const topic = ctx.name('events');
      await ctx.adapter.createTopic(topic, { partitions: 2 });
      const group = ctx.name('g');
      const n = ctx.scale.messages;
      await produceLog(ctx, topic, n);
      const a = await ctx.adapter.consumer({ groupId: group, clientId: 'a', autoOffsetReset: 'earliest' });
      await a.subscribe([topic]);
      const got = await pollAtLeast(ctx, a, crash ? n : Math.floor(n / 2));
      ctx.expect(got.length > 0, 'the first consumer received nothing');
      if (crash) {
        // Commit only the first half of what each partition returned, then die.
        const byPartition = new Map<number, ConsumedRecord[]>();
        for (const r of got) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
        const offsets: TopicPartitionOffset[] = [...byPartition].map(([partition, rs]) => ({ topic, partition, offset: rs[Math.floor(rs.length / 2)]!.offset }));
        await a.commit(offsets);
        await a.crash();
      } else {
        await a.commit();
        await a.close();
      }
      const b = await ctx.adapter.consumer({ groupId: group, clientId: 'b', autoOffsetReset: 'earliest' });
      await b.subscribe([topic]);
      await drainLog(ctx, [b]);
      await b.close();
    },
  });
}

function queueResume(crash: boolean) {
  return defineCheck({
    name: crash ? 'offset-resume/unacked-requeued-after-crash' : 'offset-resume/unacked-requeued-after-close',
    model: 'rabbitmq',
    description: `a channel that ${crash ? 'dies' : 'closes'} with unacked deliveries gets them requeued and redelivered with redelivered=true; acked ones never come back`,
    requires: crash ? ['consumer-crash'] : [],
    async run(ctx) {
      const queue = ctx.name('q');
      const pub = await ctx.adapter.openChannel();
      await pub.assertQueue(queue, { durable: false });
      const n = ctx.scale.messages;
      for (let i = 0; i < n; i++) await pub.publish('', queue, { id: ctx.id(), body: 'x' });
      const first = await ctx.adapter.openChannel();
      await first.prefetch(Math.max(1, Math.floor(n / 4)));
      const held: QueueDelivery[] = [];
      let acked = 0;
      await first.consume(queue, (d) => {
        if (acked < n / 2 && held.length % 2 === 0 && held.push(d)) return;
        acked++;
        void first.ack(d.deliveryTag);
      });
      await drainPush(ctx, [], () => acked + held.length);
      if (crash) await first.crash();
      else await first.close();
      const heldIds = new Set(held.map((d) => d.id));
      const second = await ctx.adapter.openChannel();
      let seen = 0;
      const notFlagged: string[] = [];
      await second.consume(queue, (d) => {
        seen++;
        if (heldIds.has(d.id) && !d.redelivered) notFlagged.push(d.id);
        void second.ack(d.deliveryTag);
      });
      await drainPush(ctx, [queue], () => seen);
      ctx.expect(notFlagged.length === 0, 'redeliveries after the channel went away must carry redelivered=true', { ids: notFlagged.slice(0, 10) });
      await second.close();
      await pub.close();
    },
  });
}

function brokerResume(crash: boolean) {
  return defineCheck({
    name: crash ? 'offset-resume/clustering-crash' : 'offset-resume/clustering-shutdown',
    model: 'rocketmq',
    description: crash
      ? 'after a consumer crash, messages it had not settled are consumed again by the group; none is skipped'
      : 'after a clean shutdown, the group resumes after the settled messages: none consumed twice, none skipped',
    requires: ['clustering', 'consume-from', ...(crash ? (['consumer-crash'] as const) : [])],
    async run(ctx) {
      const topic = ctx.name('t');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const group = ctx.name('g');
      const producer = await ctx.adapter.producer({ group: ctx.name('pg') });
      const n = ctx.scale.messages;
      for (let i = 0; i < n; i++) await producer.send({ id: ctx.id(), topic, body: 'x' });
      const a = await ctx.adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'a', consumeFrom: { from: 'first' } });
      await a.subscribe(topic, '*');
      await a.start();
      const settled = new Set<string>();
      const got: ReceivedMessage[] = [];
      let quiet = Date.now();
      while (got.length < n && Date.now() - quiet < ctx.scale.idleMs * 4) {
        const ms = await a.receive({ maxMessages: 32, timeoutMs: 50 });
        if (ms.length > 0) quiet = Date.now();
        got.push(...ms);
      }
      // Settle the first half; in the crash case the rest stays unsettled.
      for (const m of got.slice(0, crash ? Math.floor(got.length / 2) : got.length)) {
        await a.settle(m, 'CONSUME_SUCCESS');
        settled.add(m.id);
      }
      if (crash) await a.crash();
      else await a.shutdown();
      const b = await ctx.adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'b', consumeFrom: { from: 'first' } });
      await b.subscribe(topic, '*');
      await b.start();
      const again = await drainBroker(ctx, [b]);
      if (!crash) {
        const repeated = [...again.values()].flat().filter((m) => settled.has(m.id)).map((m) => m.id);
        ctx.expect(repeated.length === 0, 'messages settled before a clean shutdown must not be consumed again', { ids: repeated.slice(0, 10) });
      }
      await b.shutdown();
      await producer.close();
    },
  });
}

export const checks = [logResume(false), logResume(true), queueResume(false), queueResume(true), brokerResume(false), brokerResume(true)];
