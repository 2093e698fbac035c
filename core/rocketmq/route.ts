import type { TopicConfig } from './broker-api';

/** What a broker tells the NameServer on every registration (its heartbeat). */
export interface BrokerRegistration {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  /** 0 = master. */
  brokerId: number;
  topicConfigs: TopicConfig[];
}

/** RocketMQ `QueueData`: a topic's queues on one broker. */
export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
}

/** RocketMQ `BrokerData`: one broker name and its addresses by broker id. */
export interface BrokerData {
  cluster: string;
  brokerName: string;
  brokerAddrs: Record<number, string>;
}

/** What clients get for a topic (RocketMQ `TopicRouteData`). */
export interface TopicRouteData {
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
}

/** The NameServer calls clients and brokers make. */
export interface NameServerApi {
  registerBroker(reg: BrokerRegistration): void | Promise<void>;
  unregisterBroker(clusterName: string, brokerName: string, brokerAddr: string): void | Promise<void>;
  getRouteInfoByTopic(topic: string): TopicRouteData | Promise<TopicRouteData>;
}
