/**
 * Damaged index files of each engine, on a closed data directory: deleted, emptied, cut shorter
 * than their header, or cut to half their entries (the header still claiming them all). Reopening
 * must rebuild what the log can rebuild (Kafka offset/time indexes, RocketMQ ConsumeQueues) and
 * lose no message (RabbitMQ ack index: unacked messages all return; acked ones may come back, as
 * an ack is not confirmed) — never crash, never serve wrong data. A damaged file is moved aside and
 * rebuilt; it is never a reason to refuse the open.
 */
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMqlabError } from '../../core/errors';
import { KafkaEngine } from '../../core/kafka';
import { RabbitEngine } from '../../core/rabbitmq';
import { Broker } from '../../core/rocketmq';
import { patternIndex, patternPayload } from '../../scripts/reliability/record-pattern';

const MODES = ['deleted', 'empty', 'short', 'half'] as const;
type Mode = (typeof MODES)[number];

function damage(file: string, mode: Mode): void {
  if (mode === 'deleted') fs.rmSync(file);
  else if (mode === 'empty') fs.truncateSync(file, 0);
  else if (mode === 'short') fs.truncateSync(file, 10);
  else {
    // Entries start after a 64-byte header; the count (u64 at 16) stays as it was.
    const count = Number(fs.readFileSync(file).readBigUInt64LE(16));
    const entryBytes = fs.readFileSync(file).readUInt32LE(8);
    fs.truncateSync(file, 64 + Math.floor(count / 2) * entryBytes);
  }
}

function filesNamed(dir: string, test: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && test(e.name)) out.push(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  }
  return out;
}

function tempDir(t: Test): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-idx-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Opens, or returns the typed error that refused it (anything else is rethrown and fails the test). */
function openOrTyped<T>(open: () => T): T | string {
  try {
    return open();
  } catch (e) {
    if (isMqlabError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
}

for (const mode of MODES) {
  t.test(`kafka: offset and time index ${mode} -> rebuilt from the partition log`, async (t) => {
    const dir = tempDir(t);
    let engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0, indexIntervalBytes: 256 });
    engine.createTopic('ix', { numPartitions: 1, segmentBytes: 64 * 1024 });
    const producer = engine.producer();
    const base = 1_700_000_000_000;
    for (let i = 0; i < 400; i += 4) {
      await producer.send({ topic: 'ix', acks: 1, messages: [0, 1, 2, 3].map((k) => ({ value: patternPayload(i + k), timestamp: base + (i + k) * 10 })) });
    }
    engine.close();
    const indexes = filesNamed(dir, (n) => n.endsWith('.index'));
    t.equal(indexes.length, 2, 'one offset and one time index');
    for (const f of indexes) damage(f, mode);
    const opened = openOrTyped(() => KafkaEngine.open(dir, { retentionCheckIntervalMs: 0, indexIntervalBytes: 256 }));
    t.type(opened, KafkaEngine, `the engine reopens and rebuilds (got ${typeof opened === 'string' ? opened : 'an engine'})`);
    if (typeof opened === 'string') return;
    engine = opened;
    t.teardown(() => engine.close());
    const c = engine.consumer({ autoCommit: false });
    c.assign([{ topic: 'ix', partition: 0 }]);
    for (const start of [0, 1, 137, 250, 399]) {
      c.seek({ topic: 'ix', partition: 0, offset: start });
      const recs = await c.poll(0, 3);
      t.equal(recs[0]?.offset, start, `seek to ${start} lands there`);
      t.equal(recs[0] && recs[0].value ? patternIndex(recs[0].value) : -1, start, `record ${start} intact`);
    }
    const [hit] = c.offsetsForTimes([{ topic: 'ix', partition: 0, timestamp: base + 2005 }]);
    t.equal(hit?.offset, 201, 'offsetsForTimes finds the first record at or after the time');
    await c.close();
  });

  t.test(`rocketmq: ConsumeQueue files ${mode} -> rebuilt from the CommitLog`, async (t) => {
    const dir = tempDir(t);
    const open = () => new Broker({ dataDir: dir, segmentBytes: 1024 * 1024, maxMessageSize: 65536, persistIntervalMs: 0, scheduleIntervalMs: 0 } as never).start();
    let broker = open();
    broker.createTopic('IxTopic', 2);
    for (let i = 0; i < 300; i++) broker.sendMessage({ topic: 'IxTopic', queueId: i % 2, messages: [{ topic: 'IxTopic', body: patternPayload(i), keys: `k${i}` }] });
    broker.shutdown();
    const cqs = filesNamed(path.join(dir, 'consumequeue'), () => true);
    t.ok(cqs.length >= 2, `ConsumeQueue files found (${cqs.length})`);
    for (const f of cqs) damage(f, mode);
    const opened = openOrTyped(open);
    t.type(opened, Broker, `the broker restarts (got ${typeof opened === 'string' ? opened : 'a broker'})`);
    if (typeof opened === 'string') return;
    broker = opened;
    t.teardown(() => broker.shutdown());
    t.ok(broker.recovery.rebuilt, 'recovery says the queues were rebuilt');
    for (const q of [0, 1]) {
      t.equal(broker.getMaxOffset('IxTopic', q), 150, `queue ${q} has all its entries`);
      let off = 0;
      let ok = 0;
      while (off < 150) {
        const r = await broker.pullMessage({ group: 'g', topic: 'IxTopic', queueId: q, queueOffset: off, maxMsgNums: 32 });
        if (r.msgFoundList.length === 0) break;
        for (const m of r.msgFoundList) if (m.queueOffset === off++ && patternIndex(m.body) === q + 2 * m.queueOffset) ok++;
      }
      t.equal(ok, 150, `queue ${q}: every entry points at its message`);
    }
  });

  t.test(`rabbitmq: ack index ${mode} -> no unacked message lost`, async (t) => {
    const dir = tempDir(t);
    let engine = RabbitEngine.open(dir, { durability: 'sync' });
    const ch = await engine.createConfirmChannel();
    await ch.assertQueue('ixq', { durable: true });
    for (let i = 0; i < 100; i++) ch.sendToQueue('ixq', patternPayload(i), { persistent: true });
    await ch.waitForConfirms();
    for (let i = 0; i < 30; i++) {
      const m = await ch.get('ixq', { noAck: false });
      if (m) ch.ack(m);
    }
    await engine.flush();
    await engine.close();
    const idx = filesNamed(dir, (n) => n === 'acks.idx');
    t.equal(idx.length, 1, 'one ack index');
    damage(idx[0]!, mode);
    const opened = openOrTyped(() => RabbitEngine.open(dir, { durability: 'sync' }));
    t.type(opened, RabbitEngine, `the engine reopens (got ${typeof opened === 'string' ? opened : 'an engine'})`);
    if (typeof opened === 'string') return;
    engine = opened;
    t.teardown(() => engine.close());
    const ch2 = await engine.createChannel();
    const seen = new Set<number>();
    for (;;) {
      const m = await ch2.get('ixq', { noAck: true });
      if (!m) break;
      seen.add(patternIndex(m.content));
    }
    t.notOk(seen.has(-1), 'no damaged message');
    const missing = Array.from({ length: 70 }, (_, k) => 30 + k).filter((i) => !seen.has(i));
    t.same(missing, [], 'every unacked message is there');
  });
}
