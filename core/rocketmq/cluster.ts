import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileNameFor } from '../names';
import type { RpcServer } from '../threads';
import { Broker, type BrokerOptions, type BrokerStats } from './broker';
import { RocketErrors } from './errors';
import { NameServer } from './name-server';
import type { StorageProvider } from './storage';
import { InProcessTransport, serveTransport } from './transport';

export interface ClusterOptions {
  /** Each broker keeps its store in `<dataDir>/<brokerName>`. */
  dataDir: string;
  /** Default ['broker-a']. */
  brokerNames?: string[];
  clock?: () => number;
  storage?: StorageProvider;
  /** Options every broker gets (dataDir, name, address and clock are set per broker). */
  broker?: Omit<BrokerOptions, 'dataDir' | 'brokerName' | 'brokerAddr' | 'nameServer' | 'clock' | 'storage'>;
}

/**
 * A NameServer and its brokers in one process, wired through an in-process transport: what the
 * adapter, the benchmark and the tests start. Brokers listen on 127.0.0.1:10911, :10921, ...
 * (addresses only name them; nothing opens a socket).
 */
export class RocketCluster {
  readonly nameServer: NameServer;
  readonly transport: InProcessTransport;
  private readonly brokers = new Map<string, Broker>();
  private readonly addrs = new Map<string, string>();
  private readonly served: RpcServer[] = [];

  constructor(private readonly options: ClusterOptions) {
    const clock = options.clock;
    this.nameServer = new NameServer(clock ? { clock } : {});
    if (!clock) this.nameServer.start();
    this.transport = new InProcessTransport(this.nameServer);
    (options.brokerNames ?? ['broker-a']).forEach((name, i) => {
      this.addrs.set(name, `127.0.0.1:${10911 + 10 * i}`);
      this.startBroker(name);
    });
  }

  get brokerNames(): string[] {
    return [...this.addrs.keys()];
  }

  broker(name = this.brokerNames[0]!): Broker {
    const b = this.brokers.get(name);
    if (!b) throw RocketErrors.brokerNotFound(name);
    return b;
  }

  /** Opens (or reopens after a stop) a broker on its store and registers it. */
  startBroker(name: string): Broker {
    const addr = this.addrs.get(name);
    if (addr === undefined) throw RocketErrors.brokerNotFound(name);
    const old = this.brokers.get(name);
    if (old?.isRunning) return old;
    const b = new Broker({
      ...this.options.broker,
      dataDir: path.join(this.options.dataDir, fileNameFor(name)),
      brokerName: name,
      brokerAddr: addr,
      nameServer: this.nameServer,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.storage ? { storage: this.options.storage } : {}),
    });
    this.brokers.set(name, b);
    this.transport.bind(addr, b);
    b.start();
    return b;
  }

  /** Stops a broker; `unregister: false` stops its heartbeats without a goodbye (it expires). */
  stopBroker(name: string, options: { unregister?: boolean } = {}): void {
    const b = this.broker(name);
    b.shutdown(options);
    this.transport.unbind(this.addrs.get(name)!, b);
  }

  restartBroker(name?: string): void {
    for (const n of name === undefined ? this.brokerNames : [name]) {
      this.stopBroker(n);
      this.startBroker(n);
    }
  }

  /** Creates (or grows) a topic on the given brokers (default: every running broker). */
  createTopic(topic: string, queueNums = 4, brokerNames = this.brokerNames): void {
    if (!Array.isArray(brokerNames)) throw RocketErrors.invalid('brokerNames', 'an array of broker names');
    for (const n of brokerNames) {
      const b = this.broker(n);
      if (b.isRunning) b.createTopic(topic, queueNums);
    }
  }

  /**
   * One round of everything time drives, at the clock's current time: running brokers send their
   * heartbeat, due delayed messages move, the NameServer drops brokers that stopped heartbeating.
   */
  tick(): { expiredBrokers: string[]; moved: number } {
    let moved = 0;
    for (const b of this.brokers.values()) {
      if (!b.isRunning) continue;
      b.registerToNameServer();
      moved += b.tick();
    }
    return { expiredBrokers: this.nameServer.scanNotActiveBroker(), moved };
  }

  /** Makes every ConsumeQueue catch up with its CommitLog now. */
  dispatchNow(): void {
    for (const b of this.brokers.values()) b.dispatchNow();
  }

  stats(): BrokerStats[] {
    return [...this.brokers.values()].filter((b) => b.isRunning).map((b) => b.stats());
  }

  /** A port a worker thread passes to `connectTransport` to use this cluster. */
  share(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.served.push(serveTransport(port1, this.transport));
    return port2;
  }

  close(): void {
    for (const s of this.served) s.close();
    this.served.length = 0;
    for (const [name, b] of this.brokers) {
      if (b.isRunning) this.stopBroker(name);
    }
    this.nameServer.shutdown();
  }
}
