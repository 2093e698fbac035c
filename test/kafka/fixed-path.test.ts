// The allocation-free paths used at high rates: Producer.sendFixedInternal (keyless fixed-size
// values encoded straight from one buffer, what DirectProducer.sendFixed and the worker host's
// sendFixed use) must write exactly what send writes for the same messages; DirectConsumer.pollEach
// (and its synchronous fetchEach / blockForChange) must visit exactly the records poll returns.
import t, { type Test } from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { connectKafka, serveKafka, type KafkaEngine } from '../../core/kafka';
import { openEngine } from './helpers';

function valuesBuffer(count: number, size: number, seed: number): Buffer {
  const b = Buffer.alloc(count * size);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** A client of `engine` over a message channel (as a worker thread would have), closed at teardown. */
function servedClient(t: Test, engine: KafkaEngine) {
  const { port1, port2 } = new MessageChannel();
  const server = serveKafka(engine, port1);
  const kafka = connectKafka(port2);
  t.teardown(() => {
    kafka.close();
    server.close();
  });
  return kafka;
}

async function dump(engine: KafkaEngine, topic: string) {
  const c = engine.consumer({ groupId: `dump-${topic}`, autoOffsetReset: 'earliest', autoCommit: false });
  c.assign(engine.describeTopic(topic).partitions.map((p) => ({ topic, partition: p.partition })));
  const out: string[] = [];
  for (;;) {
    const rs = await c.poll(0, 10_000);
    if (rs.length === 0) break;
    for (const r of rs) out.push(`${r.partition}/${r.offset}/${r.timestamp}/${r.key === null ? 'null' : 'key'}/${r.value!.toString('hex')}/${Object.keys(r.headers).length}`);
  }
  await c.close();
  return out.sort();
}

t.test('sendFixedInternal writes what send writes: partitions (sticky, across its 16 KiB turns), offsets, batches split at max size', async (t) => {
  const a = openEngine(t, { maxMessageBytes: 4096 });
  const b = openEngine(t, { maxMessageBytes: 4096 });
  for (const e of [a.engine, b.engine]) e.createTopic('fixed', { numPartitions: 3 });
  const pa = a.engine.producer();
  const pb = b.engine.producer();
  const sends = [[1, 100], [300, 100], [500, 64], [0, 10], [40, 0]] as const;
  for (const [k, [count, size]] of sends.entries()) {
    const data = valuesBuffer(count, size, k);
    const viaFixed = pa.sendFixedInternal('fixed', data, count, size).results;
    const messages = Array.from({ length: count }, (_, i) => ({ value: data.subarray(i * size, (i + 1) * size) }));
    const viaSend = await pb.send({ topic: 'fixed', messages });
    t.same(viaFixed, viaSend, `send ${k} (${count} × ${size} B): same metadata`);
  }
  t.same(await dump(a.engine, 'fixed'), await dump(b.engine, 'fixed'), 'same records in every partition');
  t.same(a.engine.describeTopic('fixed').partitions, b.engine.describeTopic('fixed').partitions);
  t.ok(a.engine.describeTopic('fixed').partitions.filter((p) => p.logEndOffset > 0).length > 1, 'the sticky partition moved on');
  t.throws(() => pa.sendFixedInternal('fixed', Buffer.alloc(5000), 1, 5000), { code: 'RECORD_TOO_LARGE' });
  t.throws(() => pa.sendFixedInternal('nope', Buffer.alloc(10), 1, 10), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
});

t.test('DirectProducer.sendFixed (keyless) and DirectConsumer.pollEach on a served engine', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('direct', { numPartitions: 2 });
  const kafka = servedClient(t, engine);
  const producer = kafka.directProducer({ acks: 1 });
  const data = valuesBuffer(50, 16, 3);
  const meta = await producer.sendFixed('direct', data, 50, 16);
  t.equal(meta.length, 1);
  t.equal(meta[0]!.count, 50);
  await producer.sendFixed('direct', data, 3, 16, ['k1', 'k2', 'k3']);

  const consumer = await kafka.directConsumer({ groupId: 'each', autoOffsetReset: 'earliest', autoCommit: false });
  await consumer.subscribe('direct');
  const seen: string[] = [];
  let total = 0;
  for (let i = 0; i < 20 && total < 53; i++) {
    total += await consumer.pollEach(50, 7, (payload, start, length, offset) => {
      seen.push(`${offset}:${payload.subarray(start, start + length).toString('hex')}`);
    });
  }
  t.equal(total, 53, 'every record visited once');
  t.equal(seen.length, 53);
  const want = (await dump(engine, 'direct')).map((line) => {
    const [, offset, , , hex] = line.split('/');
    return `${offset}:${hex}`;
  });
  t.same([...seen].sort(), want.sort(), 'the values and offsets poll returns');
  t.equal(await consumer.pollEach(0, 10, () => undefined), 0, 'nothing left');
  // The synchronous pair: fetchEach reads what is there, blockForChange waits for the next append.
  const mark = consumer.changeMark();
  t.equal(consumer.fetchEach(10, () => undefined), 0, 'fetchEach: nothing new');
  t.equal(consumer.blockForChange(mark, 5), false, 'no append: the wait times out');
  await producer.sendFixed('direct', data, 4, 16);
  t.equal(consumer.blockForChange(mark, 1000), true, 'an append after the mark ends the wait at once');
  const got: number[] = [];
  t.equal(consumer.fetchEach(3, (_p, _s, _l, offset) => got.push(offset)), 3, 'at most maxRecords');
  t.equal(consumer.fetchEach(10, (_p, _s, _l, offset) => got.push(offset)), 1);
  t.equal(new Set(got).size, 4, 'four new records, each once');
  t.throws(() => consumer.fetchEach(0, () => undefined), { code: 'ERR_INVALID_ARG' });
  t.throws(() => consumer.fetchEach(1, null as never), { code: 'ERR_INVALID_ARG' });
  await t.rejects(consumer.pollEach(0, 10, 'x' as never), { code: 'ERR_INVALID_ARG' });
  await t.rejects(consumer.pollEach(0, 0, () => undefined), { code: 'ERR_INVALID_ARG' });
  await consumer.close();
});

t.test('DirectConsumer.fetchEach through its reused frame buffer: records larger than it, segment rolls, the limit inside a batch', async (t) => {
  // 80 KB values (above the reader's first 64 KiB frame buffer) and small ones, on 256 KiB segments.
  const { engine } = openEngine(t, { segmentBytes: 256 * 1024, maxMessageBytes: 200_000 });
  engine.createTopic('frames', { numPartitions: 1 });
  const kafka = servedClient(t, engine);
  const producer = kafka.directProducer({ acks: 1 });
  let sent = 0;
  for (let k = 0; k < 12; k++) {
    const [count, size] = k % 3 === 0 ? [1, 80_000] : [40, 100 + k];
    await producer.sendFixed('frames', valuesBuffer(count, size, k), count, size);
    sent += count;
  }
  const consumer = await kafka.directConsumer({ groupId: 'frames', autoOffsetReset: 'earliest', autoCommit: false });
  await consumer.subscribe('frames');
  const seen: string[] = [];
  const visit = (payload: Buffer, start: number, length: number, offset: number) => {
    seen.push(`${offset}:${payload.subarray(start, start + length).toString('hex')}`);
  };
  // 7 at a time: the limit stops inside batches of 40, and the next fetch resumes in that batch.
  for (let i = 0; i < 1000 && seen.length < sent; i++) consumer.fetchEach(7, visit);
  t.equal(seen.length, sent, 'every record visited once');
  const want = (await dump(engine, 'frames')).map((line) => {
    const [, offset, , , hex] = line.split('/');
    return `${offset}:${hex}`;
  });
  t.same([...seen].sort(), want.sort(), 'the values and offsets poll returns');
  t.ok(engine.describeTopic('frames').partitions[0]!.logEndOffset === sent);
  await consumer.close();
});

t.test('sendFixedInternal after the encoder replaced its scratch (a larger send between) still writes the right bytes', async (t) => {
  const a = openEngine(t, { maxMessageBytes: 1 << 20 });
  a.engine.createTopic('grow', { numPartitions: 1 });
  const p = a.engine.producer();
  const first = valuesBuffer(10, 100, 1);
  p.sendFixedInternal('grow', first, 10, 100);
  // 200 KB through send: the encoder's 64 KiB scratch is replaced by a larger one.
  await p.send({ topic: 'grow', messages: [{ value: Buffer.alloc(200_000, 9) }] });
  const second = valuesBuffer(10, 100, 2);
  p.sendFixedInternal('grow', second, 10, 100);
  p.sendFixedInternal('grow', first, 10, 100);
  const values = (await dump(a.engine, 'grow')).map((line) => line.split('/')[4]!);
  const hex = (b: Buffer, i: number) => b.subarray(i * 100, (i + 1) * 100).toString('hex');
  const want = [...Array.from({ length: 10 }, (_, i) => hex(first, i)), Buffer.alloc(200_000, 9).toString('hex'), ...Array.from({ length: 10 }, (_, i) => hex(second, i)), ...Array.from({ length: 10 }, (_, i) => hex(first, i))];
  t.same(values.sort(), want.sort(), 'every value as sent');
});

t.test('DirectProducer.appendFixed: synchronous keyless appends without metadata; typed errors', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('af', { numPartitions: 1 });
  engine.createTopic('other', { numPartitions: 1 });
  const kafka = servedClient(t, engine);
  const producer = kafka.directProducer({ acks: 1 });
  const data = valuesBuffer(20, 50, 5);
  t.throws(() => producer.appendFixed('af', data, 2, 50), { code: 'ERR_INVALID_ARG' }, 'the topic must be attached first');
  await producer.sendFixed('af', data, 2, 50);
  t.equal(producer.appendFixed('af', data, 20, 50), undefined);
  t.equal(engine.describeTopic('af').partitions[0]!.logEndOffset, 22, 'in the log when it returns');
  t.throws(() => producer.appendFixed('af', data, 21, 50), { code: 'ERR_INVALID_ARG' }, 'more values than data holds');
  t.throws(() => producer.appendFixed('af', data, -1, 50), { code: 'ERR_INVALID_ARG' });
  t.throws(() => producer.appendFixed('af', data, 1.5, 50), { code: 'ERR_INVALID_ARG' });
  t.throws(() => producer.appendFixed('af', 'x' as never, 1, 1), { code: 'ERR_INVALID_ARG' });
  t.throws(() => producer.appendFixed('other', data, 1, 50), { code: 'ERR_INVALID_ARG' }, 'not attached in this thread');
  t.equal(engine.describeTopic('af').partitions[0]!.logEndOffset, 22, 'nothing appended by a bad call');
  const values = (await dump(engine, 'af')).map((line) => line.split('/')[4]!);
  t.equal(values.length, 22);
  t.equal(values.filter((v) => v === data.subarray(0, 50).toString('hex')).length, 2, 'first value twice (sendFixed and appendFixed)');
  const durable = kafka.directProducer({ acks: 'all' });
  await durable.sendFixed('af', data, 1, 50);
  t.throws(() => durable.appendFixed('af', data, 1, 50), { code: 'ERR_INVALID_ARG' }, 'acks all needs sendFixed');
});

t.test('the engine indexes what a direct producer appended (catch-up through one reused buffer, a batch larger than it included)', async (t) => {
  const { engine } = openEngine(t, { maxMessageBytes: 1 << 20, segmentBytes: 1 << 20 });
  engine.createTopic('caught', { numPartitions: 1 });
  const kafka = servedClient(t, engine);
  const producer = kafka.directProducer({ acks: 1 });
  // Direct producers stamp with their own Date.now; the engine's clock is fake, so read times back from records.
  const sends: Array<[number, number]> = [[50, 100], [1, 300_000], [400, 64], [1, 600_000], [30, 10]];
  let sent = 0;
  for (const [k, [count, size]] of sends.entries()) {
    await producer.sendFixed('caught', valuesBuffer(count, size, k), count, size);
    sent += count;
  }
  t.equal(engine.describeTopic('caught').partitions[0]!.logEndOffset, sent);
  const c = engine.consumer({ groupId: 'caught', autoOffsetReset: 'earliest', autoCommit: false });
  c.assign([{ topic: 'caught', partition: 0 }]);
  for (const offset of [0, 49, 50, 51, 300, 451, 452, sent - 1]) {
    c.seek({ topic: 'caught', partition: 0, offset });
    const rs = await c.poll(0, 1);
    t.equal(rs[0]?.offset, offset, `seek ${offset} reads offset ${offset}`);
  }
  const all: number[] = [];
  c.seek({ topic: 'caught', partition: 0, offset: 0 });
  for (;;) {
    const rs = await c.poll(0, 10_000);
    if (rs.length === 0) break;
    for (const r of rs) all.push(r.offset);
  }
  t.same(all, Array.from({ length: sent }, (_, i) => i), 'every offset once, in order');
  const [byTime] = await c.offsetsForTimes([{ topic: 'caught', partition: 0, timestamp: 0 }]);
  t.equal(byTime!.offset, 0, 'offsetsForTimes from the indexes');
  await c.close();
});
