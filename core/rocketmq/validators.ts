import { describeValue, MqlabError } from '../errors';
import { checkName, type NameRule } from '../names';
import type { QueueRef } from './broker-api';
import type { MessageQueue } from './message';
import { GROUP_MAX_LENGTH, TOPIC_MAX_LENGTH, TOPIC_PATTERN } from './constants';

/** RocketMQ's topic rule (`TopicValidator`): `^[%|a-zA-Z0-9_-]+$`, at most 127 characters. */
export const TOPIC_RULE: NameRule = {
  kind: 'topic',
  pattern: TOPIC_PATTERN,
  maxLength: TOPIC_MAX_LENGTH,
  description: 'letters, digits, %, |, _ and -, at most 127 characters',
};

/** Group names: the same characters, at most 255. */
export const GROUP_RULE: NameRule = {
  kind: 'group',
  pattern: TOPIC_PATTERN,
  maxLength: GROUP_MAX_LENGTH,
  description: 'letters, digits, %, |, _ and -, at most 255 characters',
};

export function checkTopic(topic: unknown): string {
  return checkName(TOPIC_RULE, topic);
}

export function checkGroup(group: unknown): string {
  return checkName(GROUP_RULE, group);
}

/** An integer argument in [min, max]; anything else is ERR_INVALID_ARG (never a crash while formatting it). */
export function checkInteger(what: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new MqlabError('ERR_INVALID_ARG', `${what} must be an integer from ${min} to ${max} (got ${describeValue(value)})`);
  }
  return value;
}

/** A plain object argument (a request); null, arrays and primitives are ERR_INVALID_ARG. */
export function checkObject<T>(what: string, value: T): T & object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MqlabError('ERR_INVALID_ARG', `${what} must be an object (got ${describeValue(value)})`);
  }
  return value as T & object;
}

/** A non-empty string argument that is not a name (client ids, keys). */
export function checkString(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new MqlabError('ERR_INVALID_ARG', `${what} must be a non-empty string (got ${describeValue(value)})`);
  return value;
}

/** A list of queues: an array of { topic: string, queueId: non-negative integer }. */
export function checkQueueRefs(what: string, value: unknown): QueueRef[] {
  if (!Array.isArray(value)) throw new MqlabError('ERR_INVALID_ARG', `${what} must be an array of { topic, queueId } (got ${describeValue(value)})`);
  for (const q of value as unknown[]) {
    if (q === null || typeof q !== 'object' || typeof (q as QueueRef).topic !== 'string' || !Number.isInteger((q as QueueRef).queueId) || (q as QueueRef).queueId < 0) {
      throw new MqlabError('ERR_INVALID_ARG', `${what} must be an array of { topic, queueId } (an element is ${describeValue(q)})`);
    }
  }
  return value as QueueRef[];
}

/** A MessageQueue argument: { topic, brokerName, queueId }. */
export function checkMessageQueue(what: string, value: unknown): MessageQueue {
  const mq = value as MessageQueue;
  if (mq === null || typeof mq !== 'object' || typeof mq.topic !== 'string' || typeof mq.brokerName !== 'string' || !Number.isInteger(mq.queueId) || mq.queueId < 0) {
    throw new MqlabError('ERR_INVALID_ARG', `${what} must be a MessageQueue { topic, brokerName, queueId } (got ${describeValue(value)})`);
  }
  return mq;
}
