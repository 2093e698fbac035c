/**
 * RocketMQ's fixed names and limits, as the Java client and broker define them.
 */

/** Default maximum body size of one message (RocketMQ `maxMessageSize`, 4 MiB). */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024;
/** Topic names: RocketMQ's `TopicValidator` pattern and length limit. */
export const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
export const TOPIC_MAX_LENGTH = 127;
/** Consumer / producer group names: same characters, up to 255. */
export const GROUP_MAX_LENGTH = 255;

export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
/** Where delayed messages wait; queue id = delay level - 1. */
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';

/** The broker's default delay levels (`messageDelayLevel`); level n is the n-th entry, 1-based. */
export const DEFAULT_DELAY_LEVELS = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';
export const DEFAULT_MAX_RECONSUME_TIMES = 16;

/** NameServer: a broker that has not registered for this long is dropped from routes (ms). */
export const BROKER_CHANNEL_EXPIRED_MS = 120_000;
/** Broker: a client that has not sent a heartbeat for this long is dropped from its groups (ms). */
export const CLIENT_CHANNEL_EXPIRED_MS = 120_000;

/** Message property names (`MessageConst`). */
export const PROPERTY_KEYS = 'KEYS';
export const PROPERTY_TAGS = 'TAGS';
export const PROPERTY_DELAY_TIME_LEVEL = 'DELAY';
export const PROPERTY_RETRY_TOPIC = 'RETRY_TOPIC';
export const PROPERTY_REAL_TOPIC = 'REAL_TOPIC';
export const PROPERTY_REAL_QUEUE_ID = 'REAL_QID';
export const PROPERTY_ORIGIN_MESSAGE_ID = 'ORIGIN_MESSAGE_ID';
export const PROPERTY_MAX_RECONSUME_TIMES = 'MAX_RECONSUME_TIMES';
export const PROPERTY_CONSUME_START_TIMESTAMP = 'CONSUME_START_TIME';
/** Separates several keys in the KEYS property. */
export const KEY_SEPARATOR = ' ';

export function retryTopicOf(group: string): string {
  return RETRY_GROUP_TOPIC_PREFIX + group;
}

export function dlqTopicOf(group: string): string {
  return DLQ_GROUP_TOPIC_PREFIX + group;
}

export function isRetryTopic(topic: string): boolean {
  return topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
}

/** Parses "1s 5s 10s 30s 1m ... 2h" into milliseconds per level (index 0 = level 1). */
export function parseDelayLevels(spec: string): number[] {
  const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return spec.trim().split(/\s+/).map((item) => {
    const m = /^(\d+)([smhd])$/.exec(item);
    if (!m) throw new Error(`bad delay level ${JSON.stringify(item)} in ${JSON.stringify(spec)}`);
    return Number(m[1]) * units[m[2]!]!;
  });
}
