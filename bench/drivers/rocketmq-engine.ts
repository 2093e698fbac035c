/**
 * Benchmark driver for mqlab's in-process RocketMQ engine (core/rocketmq).
 *
 * The NameServer and broker live in the host thread (the runner's main thread) on a temporary
 * directory. Each producer / consumer worker gets a MessagePort served with the engine's RPC
 * transport and runs the engine's real clients on it: a `Producer` (a batch is one RocketMQ
 * batch send to one queue, round-robin; keyed messages go one by one through the hash selector)
 * and a `PushConsumer` (group = subscription, CLUSTERING or BROADCASTING as the workload says,
 * long-polling pulls, a listener that hands each body to the harness).
 *
 * Options: `brokers` (default 1), `flush` ('none' | 'async'), `segmentBytes`, `dataDir` (default a
 * fresh temp dir, removed on close), `pullBatchSize` (default 256).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../core/errors';
import { connectTransport, Producer, PushConsumer, RocketCluster, selectByHash, type MessageInit, type Transport } from '../../core/rocketmq';
import type { BenchConsumer, BenchDriver, BenchProducer, ConsumerCallback, DriverContext, DriverLink, DriverOptions, MessageBatch, WorkerAssignment, Workload } from './driver';

interface RocketLink {
  port: MessagePort;
}

let instances = 0;

export class RocketEngineDriver implements BenchDriver {
  private cluster: RocketCluster | undefined;
  private transport: (Transport & { close(): void }) | undefined;
  private workload: Workload | undefined;
  private dataDir: string | undefined;
  private ownsDir = false;
  private readonly open = new Set<{ close(): Promise<void> }>();

  constructor(private readonly options: DriverOptions) {}

  async initialize(workload: Workload, ctx: DriverContext): Promise<void> {
    this.workload = workload;
    if (ctx.role === 'host') {
      const given = typeof this.options.dataDir === 'string' ? this.options.dataDir : undefined;
      this.ownsDir = given === undefined;
      this.dataDir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rocketmq-bench-'));
      const brokers = typeof this.options.brokers === 'number' ? this.options.brokers : 1;
      this.cluster = new RocketCluster({
        dataDir: this.dataDir,
        brokerNames: Array.from({ length: brokers }, (_, i) => `broker-${String.fromCharCode(97 + i)}`),
        broker: {
          flush: this.options.flush === 'async' ? 'async' : 'none',
          segmentBytes: typeof this.options.segmentBytes === 'number' ? this.options.segmentBytes : 256 * 1024 * 1024,
        },
      });
    } else {
      const link = ctx.link as RocketLink | undefined;
      if (!link || typeof link !== 'object' || !link.port) throw new MqlabError('ERR_INVALID_ARG', 'rocketmq driver in a worker needs the link from the host driver');
      this.transport = connectTransport(link.port);
      this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rocketmq-bench-offsets-'));
      this.ownsDir = true;
    }
  }

  async share(_assignment: WorkerAssignment): Promise<DriverLink> {
    if (!this.cluster) throw new MqlabError('ERR_CLOSED', 'rocketmq driver: share() is for the host, after initialize');
    const port = this.cluster.share();
    return { value: { port } satisfies RocketLink, transfer: [port] };
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    if (!this.cluster) throw new MqlabError('ERR_CLOSED', 'rocketmq driver: createTopic() is for the host');
    this.cluster.createTopic(topic, partitions);
  }

  async createProducer(topic: string): Promise<BenchProducer> {
    const transport = this.needTransport();
    const producer = new Producer({ group: 'bench-producers', transport, instanceName: `bench-p-${process.pid}-${++instances}` });
    await producer.start();
    return {
      async send(key: string | undefined, payload: Uint8Array): Promise<void> {
        const m: MessageInit = key === undefined ? { topic, body: payload } : { topic, body: payload, keys: key };
        if (key === undefined) await producer.send(m);
        else await producer.send(m, selectByHash, key);
      },
      async sendBatch(batch: MessageBatch): Promise<void> {
        if (batch.keys) {
          for (let i = 0; i < batch.count; i++) {
            const body = batch.data.subarray(i * batch.size, (i + 1) * batch.size);
            const key = batch.keys[i];
            if (key === undefined) await producer.send({ topic, body });
            else await producer.send({ topic, body, keys: key }, selectByHash, key);
          }
          return;
        }
        const msgs: MessageInit[] = new Array(batch.count);
        for (let i = 0; i < batch.count; i++) msgs[i] = { topic, body: batch.data.subarray(i * batch.size, (i + 1) * batch.size) };
        await producer.send(msgs);
      },
      close: () => producer.shutdown(),
    };
  }

  async createConsumer(topic: string, subscription: string, callback: ConsumerCallback): Promise<BenchConsumer> {
    const transport = this.needTransport();
    const consumer = new PushConsumer({
      group: subscription,
      transport,
      messageModel: this.workload!.messageModel ?? 'CLUSTERING',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      instanceName: `bench-c-${process.pid}-${++instances}`,
      offsetStoreDir: this.dataDir!,
      pullBatchSize: typeof this.options.pullBatchSize === 'number' ? this.options.pullBatchSize : 256,
      consumeMessageBatchMaxSize: 1024,
      pollTimeoutMs: 200,
    });
    consumer.subscribe(topic, '*');
    consumer.registerMessageListener((msgs) => {
      for (let i = 0; i < msgs.length; i++) callback.onMessage(msgs[i]!.body);
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    const c = { close: () => consumer.shutdown() };
    this.open.add(c);
    return c;
  }

  private needTransport(): Transport {
    if (!this.transport || !this.workload) throw new MqlabError('ERR_INVALID_ARG', 'rocketmq driver: producers and consumers are created in workers');
    return this.transport;
  }

  async stats(): Promise<Record<string, number | string | boolean>> {
    const s = this.cluster?.stats() ?? [];
    return {
      maxDispatchLagBytes: Math.max(0, ...s.map((b) => b.maxDispatchLagBytes)),
      dispatchLagBytes: Math.max(0, ...s.map((b) => b.dispatchLagBytes)),
      inlineDispatches: s.reduce((a, b) => a + b.inlineDispatches, 0),
    };
  }

  async close(): Promise<void> {
    for (const o of this.open) await o.close().catch(() => undefined);
    this.open.clear();
    this.transport?.close();
    this.transport = undefined;
    if (this.cluster) {
      this.cluster.close();
      this.cluster = undefined;
    }
    if (this.ownsDir && this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function createDriver(options: DriverOptions): BenchDriver {
  return new RocketEngineDriver(options);
}
