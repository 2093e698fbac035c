import type { MessagePort } from 'node:worker_threads';
import { connectRpc, serveRpc, type RpcServer } from '../threads';
import type { BrokerApi } from './broker-api';
import { RocketErrors } from './errors';
import type { NameServerApi } from './route';

/**
 * How clients reach the NameServer and brokers: in process (direct calls) or, on a worker thread,
 * through the RPC bridge to the thread that owns the engine. Brokers are found by address, as a
 * RocketMQ client finds them from a route.
 */
export interface Transport {
  readonly nameServer: NameServerApi;
  broker(addr: string): BrokerApi;
}

interface Bindable extends BrokerApi {
  readonly isRunning: boolean;
}

export class InProcessTransport implements Transport {
  private readonly brokers = new Map<string, Bindable>();

  constructor(readonly nameServer: NameServerApi) {}

  bind(addr: string, broker: Bindable): void {
    this.brokers.set(addr, broker);
  }

  unbind(addr: string, broker?: Bindable): void {
    if (broker === undefined || this.brokers.get(addr) === broker) this.brokers.delete(addr);
  }

  broker(addr: string): BrokerApi {
    const b = this.brokers.get(addr);
    if (!b || !b.isRunning) throw RocketErrors.brokerNotFound(addr);
    return b;
  }
}

const BROKER_METHODS = new Set([
  'sendMessage', 'pullMessage', 'queryConsumerOffset', 'updateConsumerOffset', 'heartbeat', 'unregisterClient', 'getConsumerIdList',
  'waitConsumerIdsChanged', 'lockBatchMQ', 'unlockBatchMQ', 'consumerSendMessageBack', 'searchOffset', 'getMaxOffset', 'getMinOffset',
  'viewMessage', 'queryMessage', 'createTopic', 'getTopicConfig',
]);
const NAME_SERVER_METHODS = new Set(['registerBroker', 'unregisterBroker', 'getRouteInfoByTopic']);

/** Served on the engine's thread: forwards a worker's calls to the transport. */
export class TransportGateway {
  constructor(private readonly transport: Transport) {}

  nameServerCall(method: string, args: unknown[]): unknown {
    if (!NAME_SERVER_METHODS.has(method)) throw RocketErrors.invalid('NameServer method', `one of ${[...NAME_SERVER_METHODS].join(', ')}`);
    return (this.transport.nameServer as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
  }

  brokerCall(addr: string, method: string, args: unknown[]): unknown {
    if (!BROKER_METHODS.has(method)) throw RocketErrors.invalid('broker method', `one of the BrokerApi methods (got ${method})`);
    return (this.transport.broker(addr) as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
  }
}

export function serveTransport(port: MessagePort, transport: Transport): RpcServer {
  return serveRpc(port, new TransportGateway(transport));
}

/** On a worker thread: a Transport whose calls cross to the engine's thread. */
export function connectTransport(port: MessagePort): Transport & { close(): void } {
  const gw = connectRpc<TransportGateway>(port, { timeoutMs: 0 });
  const proxyOf = <T extends object>(call: (method: string, args: unknown[]) => Promise<unknown>): T =>
    new Proxy({} as T, {
      get(_t, prop) {
        if (typeof prop !== 'string' || prop === 'then') return undefined;
        return (...args: unknown[]) => call(prop, args);
      },
    });
  const brokers = new Map<string, BrokerApi>();
  return {
    nameServer: proxyOf<NameServerApi>((m, a) => gw.nameServerCall(m, a)),
    broker(addr: string): BrokerApi {
      let b = brokers.get(addr);
      if (!b) brokers.set(addr, (b = proxyOf<BrokerApi>((m, a) => gw.brokerCall(addr, m, a))));
      return b;
    },
    close: () => gw.$rpc.close(),
  };
}
