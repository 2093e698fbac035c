import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { workerEntry } from '../../core/threads';
import { openCluster } from './helpers';

function start(data: Record<string, unknown>, transfer: never[]): Worker {
  const { filename, argv } = workerEntry(path.join(__dirname, 'fixtures', 'client-worker.ts'));
  return new Worker(filename, { argv, workerData: data, transferList: transfer });
}

const next = (w: Worker, what = 'a reply from the worker') => new Promise<Record<string, unknown>>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 120_000);
  w.once('message', (m) => {
    clearTimeout(timer);
    resolve(m);
  });
  w.once('error', (e) => {
    clearTimeout(timer);
    reject(e);
  });
});

t.test('a producer and a push consumer on worker threads drive the main thread engine', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('T', 4);
  const cport = cluster.share();
  const consumer = start({ role: 'consumer', port: cport, count: 22 }, [cport] as never[]);
  const pport = cluster.share();
  const producer = start({ role: 'producer', port: pport, count: 20 }, [pport] as never[]);
  const sent = await next(producer, 'the producer worker');
  t.equal((sent.ids as string[]).length, 22);
  t.equal(sent.code, 'TOPIC_NOT_EXIST', 'typed errors cross the thread boundary');
  const got = await next(consumer, 'the consumer worker to receive 22 messages');
  const bodies = (got.bodies as string[]).sort();
  t.same(bodies, [...Array.from({ length: 20 }, (_, i) => `w${i}`), 'batch-0', 'batch-1'].sort());
  const b = cluster.broker();
  t.equal((await Promise.resolve(b.viewMessage(Number.parseInt((sent.ids as string[])[0]!.slice(16), 16)))).body.toString(), 'w0', 'msgIds from the worker locate messages');
  consumer.postMessage('stop');
  t.same(await next(consumer), { stopped: true });
  await producer.terminate();
  await consumer.terminate();
  t.same(b.getConsumerIdList('wcg'), [], 'the worker consumer left its group');
});
