import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import t, { type Test } from 'tap';
import { workerEntry } from '../../core/threads';
import { openCluster } from './helpers';

/**
 * A worker and every message it posted since it started. A Worker emits a message as soon as it
 * arrives, whether or not anyone listens, so replies are collected from the start: the consumer's
 * reply may arrive before the producer's (it did on a loaded machine, and was lost).
 */
interface Inbox {
  worker: Worker;
  next(what?: string): Promise<Record<string, unknown>>;
}

function start(t: Test, data: Record<string, unknown>, transfer: never[]): Inbox {
  const { filename, argv } = workerEntry(path.join(__dirname, 'fixtures', 'client-worker.ts'));
  const worker = new Worker(filename, { argv, workerData: data, transferList: transfer });
  // A failed test must not leave a worker keeping the process alive.
  t.teardown(() => worker.terminate());
  const received: Record<string, unknown>[] = [];
  const waiting: Array<() => void> = [];
  let failure: Error | undefined;
  const wakeAll = () => {
    for (const w of waiting.splice(0)) w();
  };
  worker.on('message', (m) => {
    received.push(m);
    wakeAll();
  });
  worker.on('error', (e) => {
    failure = e;
    wakeAll();
  });
  worker.on('exit', (code) => {
    failure ??= new Error(`worker exited with code ${code}`);
    wakeAll();
  });
  const next = async (what = 'a reply from the worker') => {
    const end = Date.now() + 120_000;
    for (;;) {
      const m = received.shift();
      if (m) return m;
      if (failure) throw failure;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  return { worker, next };
}

t.test('a producer and a push consumer on worker threads drive the main thread engine', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('T', 4);
  const cport = cluster.share();
  const consumer = start(t, { role: 'consumer', port: cport, count: 22 }, [cport] as never[]);
  t.same(await consumer.next('the consumer worker to start'), { ready: true });
  const pport = cluster.share();
  const producer = start(t, { role: 'producer', port: pport, count: 20 }, [pport] as never[]);
  const sent = await producer.next('the producer worker');
  t.equal((sent.ids as string[]).length, 22);
  t.equal(sent.code, 'TOPIC_NOT_EXIST', 'typed errors cross the thread boundary');
  const got = await consumer.next('the consumer worker to receive 22 messages');
  const bodies = (got.bodies as string[]).sort();
  t.same(bodies, [...Array.from({ length: 20 }, (_, i) => `w${i}`), 'batch-0', 'batch-1'].sort());
  const b = cluster.broker();
  t.equal((await Promise.resolve(b.viewMessage(Number.parseInt((sent.ids as string[])[0]!.slice(16), 16)))).body.toString(), 'w0', 'msgIds from the worker locate messages');
  consumer.worker.postMessage('stop');
  t.same(await consumer.next('the consumer worker to stop'), { stopped: true });
  t.same(b.getConsumerIdList('wcg'), [], 'the worker consumer left its group');
});
