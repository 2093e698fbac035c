import t from 'tap';
import { openEngine, str } from './helpers';
import { partitionForKey } from '../../core/kafka';

t.test('records round-trip with key, value, headers and timestamp; offsets contiguous per partition', async (t) => {
  const { engine, clock } = openEngine(t);
  engine.createTopic('events', { numPartitions: 3 });
  const producer = engine.producer();
  const messages = Array.from({ length: 300 }, (_, i) => ({ key: `user-${i % 17}`, value: `v${i}`, headers: { n: String(i), empty: null } }));
  const metas = await producer.send({ topic: 'events', messages });
  t.equal(metas.reduce((s, m) => s + m.count, 0), 300);
  await producer.send({ topic: 'events', messages: [{ value: null, key: null }, { value: Buffer.from([0, 1, 2]), timestamp: 42 }], acks: 'all' });
  const c = engine.consumer({ groupId: 'g', autoOffsetReset: 'earliest' });
  c.assign([0, 1, 2].map((partition) => ({ topic: 'events', partition })));
  const got = [];
  for (;;) {
    const batch = await c.poll(0, 64);
    if (batch.length === 0) break;
    t.ok(batch.length <= 64, 'poll honours maxRecords');
    got.push(...batch);
  }
  t.equal(got.length, 302);
  const byPartition = new Map<number, number[]>();
  for (const r of got) {
    if (!byPartition.has(r.partition)) byPartition.set(r.partition, []);
    byPartition.get(r.partition)!.push(r.offset);
    if (r.key !== null && str(r.value)!.startsWith('v')) {
      t.equal(r.partition, partitionForKey(r.key, 3), 'keyed record on murmur2(key) % 3');
      const i = Number(str(r.value)!.slice(1));
      t.equal(str(r.headers.n!), String(i));
      t.equal(r.headers.empty, null);
      t.equal(r.timestamp, clock.now);
    }
  }
  for (const [p, offsets] of byPartition) t.same(offsets, offsets.map((_, i) => i), `partition ${p}: offsets 0..n-1 in order`);
  // Per-key order: values of one key come in send order.
  const lastOfKey = new Map<string, number>();
  for (const r of got) {
    if (r.key === null) continue;
    const i = Number(str(r.value)!.slice(1));
    const k = str(r.key)!;
    t.ok((lastOfKey.get(k) ?? -1) < i, 'per-key order');
    lastOfKey.set(k, i);
  }
  const nullRec = got.find((r) => r.key === null && r.value === null);
  t.ok(nullRec, 'null key and value round-trip');
  const tsRec = got.find((r) => r.value !== null && r.value[0] === 0);
  t.equal(tsRec?.timestamp, 42, 'explicit timestamp kept');
});

t.test('large sends split into batches; explicit partition honoured', async (t) => {
  const { engine } = openEngine(t, { maxMessageBytes: 4096 });
  engine.createTopic('big', { numPartitions: 2 });
  const p = engine.producer();
  const value = Buffer.alloc(1000, 7);
  const [meta] = await p.send({ topic: 'big', messages: Array.from({ length: 50 }, () => ({ value, partition: 1 })) });
  t.same(meta, { topic: 'big', partition: 1, baseOffset: 0, count: 50, logAppendTime: -1 });
  t.same(engine.describeTopic('big').partitions.map((x) => x.logEndOffset), [0, 50]);
  const c = engine.consumer({ autoOffsetReset: 'earliest', groupId: 'x' });
  c.assign([{ topic: 'big', partition: 1 }]);
  c.seek({ topic: 'big', partition: 1, offset: 33 });
  const recs = await c.poll(0, 1000);
  t.same(recs.map((r) => r.offset), Array.from({ length: 17 }, (_, i) => 33 + i), 'seek into the middle of a batch');
});

t.test('bad input: typed errors with Kafka names, nothing written', async (t) => {
  const { engine } = openEngine(t, { maxMessageBytes: 2048 });
  engine.createTopic('ok', { numPartitions: 2 });
  const p = engine.producer();
  await t.rejects(p.send({ topic: 'nope', messages: [{ value: 'x' }] }), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  for (const bad of ['', '.', '..', 'a b', 'x'.repeat(250), 'ü', 'a/b']) {
    t.throws(() => engine.createTopic(bad), { code: 'INVALID_TOPIC_EXCEPTION' }, `topic name ${JSON.stringify(bad).slice(0, 20)}`);
  }
  t.doesNotThrow(() => engine.createTopic('x'.repeat(249)), '249 characters are fine');
  t.throws(() => engine.createTopic('ok'), { code: 'TOPIC_ALREADY_EXISTS' });
  t.throws(() => engine.createTopic('zero', { numPartitions: 0 }), { code: 'INVALID_PARTITIONS' });
  await t.rejects(p.send({ topic: 'ok', messages: [{ value: 'a' }, { value: 'b', partition: 2 }] }), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  await t.rejects(p.send({ topic: 'ok', messages: [{ value: 'a' }, { value: Buffer.alloc(4000) }] }), { code: 'RECORD_TOO_LARGE' });
  await t.rejects(p.send({ topic: 'ok', messages: [{ value: 'a', timestamp: -5 }] }), { code: 'INVALID_TIMESTAMP' });
  await t.rejects(p.send({ topic: 'ok', messages: [{ value: 'a', acks: 2 } as never], acks: 2 as never }), { code: 'ERR_INVALID_ARG' });
  await t.rejects(p.send({ topic: 'ok', messages: [{ value: 12 as never }] }), { code: 'INVALID_RECORD' });
  t.same(engine.describeTopic('ok').partitions.map((x) => x.logEndOffset), [0, 0], 'no partial writes');
  const c = engine.consumer({ groupId: 'g' });
  c.assign([{ topic: 'ok', partition: 0 }]);
  t.throws(() => c.seek({ topic: 'ok', partition: 0, offset: -1 }), { code: 'OFFSET_OUT_OF_RANGE' });
  t.throws(() => c.seek({ topic: 'ok', partition: 0, offset: 5 }), { code: 'OFFSET_OUT_OF_RANGE' });
  t.throws(() => c.seek({ topic: 'ok', partition: 1, offset: 0 }), { code: 'ILLEGAL_STATE' });
  t.throws(() => c.assign([{ topic: 'ok', partition: 9 }]), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  t.throws(() => engine.consumer({ groupId: '' }), { code: 'INVALID_GROUP_ID' });
  await t.rejects(c.commit([{ topic: 'ok', partition: 0, offset: 99 }]), { code: 'OFFSET_OUT_OF_RANGE' });
});

t.test('auto-create topics when enabled', async (t) => {
  const { engine } = openEngine(t, { autoCreateTopics: true, defaultPartitions: 4 });
  await engine.producer().send({ topic: 'auto', messages: [{ value: 'x' }] });
  t.equal(engine.describeTopic('auto').partitions.length, 4);
  t.throws(() => engine.producer().sendInternal({ topic: 'bad name', messages: [{ value: 'x' }] }), { code: 'INVALID_TOPIC_EXCEPTION' });
});
