/**
 * Benchmark driver for the built-in RabbitMQ engine (core/rabbitmq), for the workload files
 * (bench/workloads/rabbitmq-*.yaml) run by run-workload.ts with producers and consumers on
 * piscina worker threads.
 *
 * Topology: a topic is an exchange of the workload's `exchangeType` (default direct); each
 * subscription is `partitionsPerTopic` transient queues `<topic>.<subscription>.<i>`, queue i
 * bound with routing key `<i>` (fanout ignores it). Producers round-robin the routing key over
 * the partitions; consumer c of a subscription consumes queue c mod partitions (more consumers
 * than queues compete). Distinct subscriptions each get every message.
 *
 * Threads: the engine lives on the host thread; each worker reaches it through a MessagePort
 * served by core/rabbitmq/remote-host.ts. Batches cross as one buffer each way: a producer's
 * batch is published message by message on the host, and a consumer's deliveries come back
 * packed per engine turn (acked with `multiple` up to the batch's last tag in manual mode).
 * Confirms (workload `confirms: true`) make a batch settle when the engine confirmed all of it.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MqlabError } from '../../core/errors';
import { RabbitEngine } from '../../core/rabbitmq';
import { connectRemoteEngine, serveRemoteEngine, type PackedDelivery, type RemoteChannel, type RemoteEngine } from '../../core/rabbitmq/remote';
import type { BenchConsumer, BenchDriver, BenchProducer, ConsumerCallback, DriverContext, DriverLink, DriverOptions, MessageBatch, Workload, WorkerAssignment } from './driver';

interface RabbitLink {
  port: MessagePort;
}

class RabbitProducer implements BenchProducer {
  private next = 0;
  constructor(
    private readonly ch: RemoteChannel,
    private readonly exchange: string,
    private readonly partitions: number,
  ) {}

  send(_key: string | undefined, payload: Uint8Array): Promise<void> {
    return this.sendBatch({ data: payload, count: 1, size: payload.length });
  }

  sendBatch(batch: MessageBatch): Promise<void> {
    const key = String(this.next++ % this.partitions);
    return new Promise((resolve, reject) => {
      this.ch.publishPacked(this.exchange, key, batch.data.subarray(0, batch.count * batch.size), batch.count, batch.size, undefined, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.ch.close();
  }
}

class RabbitConsumer implements BenchConsumer {
  constructor(private readonly ch: RemoteChannel) {}
  async close(): Promise<void> {
    await this.ch.close();
  }
}

export class RabbitEngineDriver implements BenchDriver {
  private engine: RabbitEngine | null = null;
  private remote: RemoteEngine | null = null;
  private workload: Workload | undefined;
  private ctx: DriverContext | undefined;
  private readonly servers: Array<{ close(): void }> = [];

  constructor(private readonly options: DriverOptions) {}

  async initialize(workload: Workload, ctx: DriverContext): Promise<void> {
    this.workload = workload;
    this.ctx = ctx;
    if (ctx.role === 'host') {
      // Transient queues only: a data directory would not be touched, so none is opened.
      this.engine = RabbitEngine.open(null, { copyContent: this.options.copyContent !== false });
    } else {
      const link = ctx.link as RabbitLink | undefined;
      if (!link || typeof link !== 'object' || !link.port) throw new MqlabError('ERR_INVALID_ARG', 'rabbitmq driver in a worker needs the link from the host driver');
      this.remote = connectRemoteEngine(link.port);
    }
  }

  async share(_assignment: WorkerAssignment): Promise<DriverLink> {
    if (!this.engine) throw new MqlabError('ERR_CLOSED', 'rabbitmq driver is not initialized on the host');
    const { port1, port2 } = new MessageChannel();
    const engine = this.engine;
    this.servers.push(serveRemoteEngine(port1, { connect: () => engine.connect() }));
    return { value: { port: port2 }, transfer: [port2] };
  }

  async createTopic(topic: string, _partitions: number): Promise<void> {
    const ch = await this.engine!.createChannel();
    await ch.assertExchange(topic, this.workload?.exchangeType ?? 'direct', { durable: false });
    await ch.close();
  }

  private async channel(confirm: boolean): Promise<RemoteChannel> {
    if (!this.remote) throw new MqlabError('ERR_INVALID_ARG', 'rabbitmq producers and consumers run on workers (no link)');
    const conn = await this.remote.connect();
    return confirm ? conn.createConfirmChannel() : conn.createChannel();
  }

  async createProducer(topic: string): Promise<BenchProducer> {
    const w = this.workload!;
    return new RabbitProducer(await this.channel(w.confirms === true), topic, Math.max(1, w.partitionsPerTopic));
  }

  async createConsumer(topic: string, subscription: string, callback: ConsumerCallback): Promise<BenchConsumer> {
    const w = this.workload!;
    const a = this.ctx?.assignment;
    const partitions = Math.max(1, w.partitionsPerTopic);
    const ch = await this.channel(false);
    const manual = w.ackMode === 'manual';
    if (w.prefetch !== undefined) await ch.prefetch(w.prefetch);
    // Fewer consumers than queues: consumer c takes every queue q with q mod consumers = c.
    // More consumers than queues: consumer c competes on queue c mod partitions.
    const consumers = Math.max(1, w.consumerPerSubscription);
    const index = a?.index ?? 0;
    const mine = consumers <= partitions ? Array.from({ length: partitions }, (_, q) => q).filter((q) => q % consumers === index) : [index % partitions];
    for (const q of mine) {
      const queue = `${topic}.${subscription}.${q}`;
      await ch.assertQueue(queue, { durable: false });
      await ch.bindQueue(queue, topic, String(q));
      await ch.consumePacked(
        queue,
        (d: PackedDelivery) => {
          callback.onBatch({ data: d.data, count: d.count, size: d.size });
          if (manual) ch.ack(d.lastTag, true);
        },
        { noAck: !manual },
      );
    }
    return new RabbitConsumer(ch);
  }

  async close(): Promise<void> {
    for (const s of this.servers) s.close();
    this.servers.length = 0;
    if (this.remote) await this.remote.close();
    if (this.engine) await this.engine.close();
    this.engine = null;
    this.remote = null;
  }
}

export function createDriver(options: DriverOptions): BenchDriver {
  return new RabbitEngineDriver(options);
}
