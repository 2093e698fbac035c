/**
 * The RocketMQ model engine: NameServer, brokers on the storage core, producer, push and pull
 * consumers. See docs/rocketmq.md.
 */
export { allocateAveragely } from './allocate';
export { Broker, type BrokerOptions, type BrokerStats, type BrokerRecoveryReport } from './broker';
export * from './broker-api';
export { MQClient, clientIdOf } from './client';
export { RocketCluster, type ClusterOptions } from './cluster';
export * from './constants';
export { RocketErrors } from './errors';
export { Message, type MessageExt, type MessageInit, type MessageQueue, mqKey } from './message';
export { createMessageId, decodeMessageId } from './message-id';
export { NameServer, type NameServerOptions } from './name-server';
export { Producer, SendResult, selectByHash, type MessageQueueSelector, type ProducerOptions } from './producer';
export { PullConsumer, type PullConsumerOptions } from './pull-consumer';
export * from './push-consumer';
export type { BrokerRegistration, NameServerApi, TopicRouteData } from './route';
export { coreStorage, type StorageProvider } from './storage';
export { parseSubscription, type SubscriptionData } from './subscription';
export { tagHashCode } from './tag-hash';
export { InProcessTransport, TransportGateway, connectTransport, serveTransport, type Transport } from './transport';
export { checkGroup, checkTopic } from './validators';
