import t from 'tap';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { workerEntry } from '../../core/threads';
import { serveKafka } from '../../core/kafka';
import { openEngine } from './helpers';

function startWorker(engine: Parameters<typeof serveKafka>[0], data: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { port1, port2 } = new MessageChannel();
  serveKafka(engine, port1);
  const { filename, argv } = workerEntry(path.join(__dirname, 'fixtures', 'worker-client.ts'));
  const w = new Worker(filename, { argv, workerData: { ...data, port: port2 }, transferList: [port2] });
  return new Promise((resolve, reject) => {
    w.once('message', (m: Record<string, unknown>) => {
      void w.terminate();
      port1.close();
      if (m.error) reject(new Error(String(m.error)));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

for (const direct of [false, true]) t.test(`producers and a consumer on worker threads against one engine (${direct ? 'direct data path' : 'RPC'})`, async (t) => {
  const { engine } = openEngine(t, { flush: 'none' });
  engine.createTopic('shared', { numPartitions: 3 });
  // The main thread appends too, concurrently with the workers.
  const mainProducer = engine.producer();
  const mainSends = (async () => {
    for (let i = 0; i < 10; i++) {
      await mainProducer.send({ topic: 'shared', messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${j}`, value: `M-${i * 10 + j}`, headers: { tag: 'M' } })) });
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  await Promise.all([startWorker(engine, { role: 'produce', topic: 'shared', count: 500, tag: 'A', direct }), startWorker(engine, { role: 'produce', topic: 'shared', count: 500, tag: 'B', direct }), mainSends]);
  const info = engine.describeTopic('shared').partitions;
  t.equal(info.reduce((s, p) => s + p.logEndOffset, 0), 1100, 'every thread\'s records are in the log');
  const res = (await startWorker(engine, { role: 'consume', topic: 'shared', count: 1100, direct })) as { seen: Array<{ partition: number; offset: number; value: string; tag: string }>; leftover: number };
  t.equal(res.seen.length, 1100);
  t.equal(res.leftover, 0);
  t.equal(new Set(res.seen.map((r) => r.value)).size, 1100, 'every record once');
  for (const p of [0, 1, 2]) {
    const offs = res.seen.filter((r) => r.partition === p).map((r) => r.offset);
    t.same(offs, offs.map((_, i) => i), `partition ${p}: contiguous, in order`);
  }
  for (const tag of ['A', 'B', 'M']) {
    const mine = res.seen.filter((r) => r.tag === tag).map((r) => Number(r.value.split('-')[1]));
    const byKey = new Map<number, number[]>();
    const keyOf = (v: number) => (tag === 'M' ? v % 10 : v % 7);
    for (const v of mine) byKey.set(keyOf(v), [...(byKey.get(keyOf(v)) ?? []), v]);
    for (const vs of byKey.values()) t.ok(vs.every((v, i) => i === 0 || vs[i - 1]! < v), `producer ${tag}: per-key order kept`);
  }
  t.same(engine.committedOffsets(direct ? 'direct-workers' : 'workers').map((c) => c.offset).sort(), info.map((p) => p.logEndOffset).sort(), 'the worker consumer committed through the bridge');
  // The engine's indexes cover what the workers appended: seek anywhere from the main thread.
  const c = engine.consumer({ groupId: 'check', autoOffsetReset: 'earliest' });
  c.assign([{ topic: 'shared', partition: 1 }]);
  const end = info[1]!.logEndOffset;
  for (const o of [0, Math.floor(end / 2), end - 1]) {
    c.seek({ topic: 'shared', partition: 1, offset: o });
    t.equal((await c.poll(0, 1))[0]?.offset, o, `seek to ${o} after worker appends`);
  }
});
