import { PROPERTY_DELAY_TIME_LEVEL, PROPERTY_KEYS, PROPERTY_TAGS, KEY_SEPARATOR } from './constants';

/**
 * What a producer sends (RocketMQ `Message`): a topic, a body, optional tags and keys, and
 * user properties. A plain object works as well as the class (workers send plain objects).
 */
export interface MessageInit {
  topic: string;
  body: Uint8Array | string;
  /** One tag; consumers filter on it (`TagA`, or `TagA || TagB` in a subscription). */
  tags?: string;
  /** Business keys for `queryMessage`; several keys as an array or separated by blanks. */
  keys?: string | readonly string[];
  /** 1-based delay level ("1s 5s 10s 30s 1m ..."); 0 = deliver now. */
  delayTimeLevel?: number;
  /** User flag, stored as given. */
  flag?: number;
  properties?: Readonly<Record<string, string>>;
}

export class Message implements MessageInit {
  topic: string;
  body: Uint8Array | string;
  tags?: string;
  keys?: string | readonly string[];
  delayTimeLevel?: number;
  flag?: number;
  properties?: Record<string, string>;

  /** `new Message(topic, body)`, `new Message(topic, tags, body)`, `new Message(topic, tags, keys, body)`, as in Java. */
  constructor(topic: string, ...rest: Array<string | Uint8Array | readonly string[] | undefined>) {
    this.topic = topic;
    const body = rest.pop();
    this.body = body === undefined || Array.isArray(body) ? '' : (body as Uint8Array | string);
    if (rest.length >= 1 && typeof rest[0] === 'string') this.tags = rest[0];
    if (rest.length >= 2 && rest[1] !== undefined) this.keys = rest[1] as string | readonly string[];
  }
}

/** A message as stored and delivered (RocketMQ `MessageExt`). */
export interface MessageExt {
  /** Locates the message: broker address + CommitLog offset, 32 hex digits (RocketMQ offsetMsgId). */
  msgId: string;
  topic: string;
  body: Buffer;
  tags: string | undefined;
  /** Blank-separated keys (`getKeys()` in Java), or undefined. */
  keys: string | undefined;
  properties: Record<string, string>;
  flag: number;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  storeSize: number;
  bornTimestamp: number;
  storeTimestamp: number;
  storeHost: string;
  /** How many times this message went back to the broker as RECONSUME_LATER. */
  reconsumeTimes: number;
}

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export function mqKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

export function compareMessageQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

/** The keys of a message as a list (blank-separated in the KEYS property). */
export function keysOf(keys: string | readonly string[] | undefined): string[] {
  if (keys === undefined) return [];
  const list = typeof keys === 'string' ? keys.split(KEY_SEPARATOR) : [...keys];
  return list.filter((k) => k.length > 0);
}

/** Properties as stored: user properties plus TAGS, KEYS and DELAY. */
export function storedProperties(msg: MessageInit): Record<string, string> | undefined {
  const keys = msg.keys === undefined ? undefined : keysOf(msg.keys).join(KEY_SEPARATOR);
  if (msg.properties === undefined && msg.tags === undefined && !keys && !msg.delayTimeLevel) return undefined;
  const props: Record<string, string> = msg.properties ? { ...msg.properties } : {};
  if (msg.tags !== undefined && msg.tags !== '') props[PROPERTY_TAGS] = msg.tags;
  if (keys) props[PROPERTY_KEYS] = keys;
  if (msg.delayTimeLevel) props[PROPERTY_DELAY_TIME_LEVEL] = String(msg.delayTimeLevel);
  return props;
}
