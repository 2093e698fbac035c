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

t.test('producers and a consumer on worker threads against one engine', async (t) => {
  const { engine } = openEngine(t, { flush: 'none' });
  engine.createTopic('shared', { numPartitions: 3 });
  await Promise.all([startWorker(engine, { role: 'produce', topic: 'shared', count: 500, tag: 'A' }), startWorker(engine, { role: 'produce', topic: 'shared', count: 500, tag: 'B' })]);
  const info = engine.describeTopic('shared').partitions;
  t.equal(info.reduce((s, p) => s + p.logEndOffset, 0), 1000, 'both workers\' records are in the log');
  const res = (await startWorker(engine, { role: 'consume', topic: 'shared', count: 1000 })) as { seen: Array<{ partition: number; offset: number; value: string; tag: string }>; leftover: number };
  t.equal(res.seen.length, 1000);
  t.equal(res.leftover, 0);
  t.equal(new Set(res.seen.map((r) => r.value)).size, 1000, 'every record once');
  for (const p of [0, 1, 2]) {
    const offs = res.seen.filter((r) => r.partition === p).map((r) => r.offset);
    t.same(offs, offs.map((_, i) => i), `partition ${p}: contiguous, in order`);
  }
  for (const tag of ['A', 'B']) {
    const mine = res.seen.filter((r) => r.tag === tag).map((r) => Number(r.value.split('-')[1]));
    const byKey = new Map<number, number[]>();
    for (const v of mine) byKey.set(v % 7, [...(byKey.get(v % 7) ?? []), v]);
    for (const vs of byKey.values()) t.ok(vs.every((v, i) => i === 0 || vs[i - 1]! < v), `producer ${tag}: per-key order kept`);
  }
  t.same(engine.committedOffsets('workers').map((c) => c.offset).sort(), info.map((p) => p.logEndOffset).sort(), 'the worker consumer committed through the bridge');
});
