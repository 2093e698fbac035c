/** The Kafka model engine: see docs/kafka.md. */
export { KafkaEngine, type KafkaEngineOptions, type CreateTopicOptions, type PartitionInfo } from './engine';
export { Producer, type ProducerOptions } from './producer';
export { Consumer, type ConsumerOptions } from './consumer';
export { murmur2, partitionForKey } from './murmur2';
export { TOPIC_NAME_RULE, checkTopicName, type TopicConfig } from './topic';
export type { GroupDescription, GroupState } from './group-coordinator';
export * from './types';
export { serveKafka, KafkaWorkerHost, packRecords, type PackedRecords } from './worker-host';
export { connectKafka, RemoteKafka, RemoteProducer, RemoteConsumer, DirectProducer, DirectConsumer } from './remote';
