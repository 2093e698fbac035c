import { describeValue, MqlabError } from '../errors';

/**
 * Every error the Kafka engine raises for a caller's mistake carries Kafka's own error name as its
 * `code` (and Kafka's numeric protocol code in `details.errorCode`), so a Kafka user recognises it.
 * All messages are made here, one factory per condition.
 */
export const KafkaErrors = {
  unknownTopic: (topic: string) =>
    new MqlabError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${JSON.stringify(topic)} does not exist (auto-create is off)`, { errorCode: 3, topic }),
  unknownPartition: (topic: string, partition: unknown, count: number) =>
    new MqlabError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${JSON.stringify(topic)} has no partition ${describeValue(partition)} (it has ${count}: 0..${count - 1})`, { errorCode: 3, topic, partition, partitions: count }),
  invalidTopic: (topic: unknown, why: string) =>
    new MqlabError('INVALID_TOPIC_EXCEPTION', `invalid topic name ${describeValue(topic)}: ${why}`, { errorCode: 17 }),
  topicExists: (topic: string) =>
    new MqlabError('TOPIC_ALREADY_EXISTS', `topic ${JSON.stringify(topic)} already exists`, { errorCode: 36, topic }),
  invalidPartitions: (value: unknown) =>
    new MqlabError('INVALID_PARTITIONS', `numPartitions must be an integer from 1 to 10000, got ${describeValue(value)}`, { errorCode: 37 }),
  offsetOutOfRange: (topic: string, partition: number, offset: unknown, logStartOffset: number, logEndOffset: number) =>
    new MqlabError('OFFSET_OUT_OF_RANGE', `offset ${describeValue(offset)} is outside ${topic}-${partition}'s range [${logStartOffset}, ${logEndOffset}]`, { errorCode: 1, topic, partition, offset, logStartOffset, logEndOffset }),
  recordTooLarge: (bytes: number, max: number) =>
    new MqlabError('RECORD_TOO_LARGE', `record of ${bytes} bytes (encoded) exceeds the maximum record size of ${max} bytes`, { errorCode: 10, bytes, maxBytes: max }),
  invalidRecord: (why: string) => new MqlabError('INVALID_RECORD', `invalid record: ${why}`, { errorCode: 87 }),
  invalidTimestamp: (value: unknown) =>
    new MqlabError('INVALID_TIMESTAMP', `timestamp must be a non-negative number of ms since the epoch, got ${describeValue(value)}`, { errorCode: 32 }),
  illegalGeneration: (group: string, generation: number, current: number, why?: string) =>
    new MqlabError('ILLEGAL_GENERATION', `generation ${generation} of group ${JSON.stringify(group)} is not current (current: ${current})${why ? ': ' + why : ''}`, { errorCode: 22, group, generation, current }),
  unknownMember: (group: string, memberId: string) =>
    new MqlabError('UNKNOWN_MEMBER_ID', `member ${JSON.stringify(memberId)} is not in group ${JSON.stringify(group)}`, { errorCode: 25, group, memberId }),
  rebalanceInProgress: (group: string) =>
    new MqlabError('REBALANCE_IN_PROGRESS', `group ${JSON.stringify(group)} is rebalancing; rejoin`, { errorCode: 27, group }),
  invalidGroupId: (group: unknown) =>
    new MqlabError('INVALID_GROUP_ID', `group id must be a non-empty string of at most 255 characters, got ${describeValue(group)}`, { errorCode: 24 }),
  inconsistentProtocol: (group: string, offered: string[]) =>
    new MqlabError('INCONSISTENT_GROUP_PROTOCOL', `none of the assignors [${offered.join(', ')}] is supported by every member of group ${JSON.stringify(group)}`, { errorCode: 23, group }),
  noOffsetForPartition: (topic: string, partition: number) =>
    new MqlabError('NO_OFFSET_FOR_PARTITION', `no committed offset for ${topic}-${partition} and auto.offset.reset is none`, { topic, partition }),
  illegalState: (why: string) => new MqlabError('ILLEGAL_STATE', why),
};
