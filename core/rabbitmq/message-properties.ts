import { AmqpErrors } from './amqp-errors';
import type { MessageProperties, PublishOptions } from './types';
import { describeValue } from '../describe-value';
import { checkFieldTable, checkShortString } from './validate';

/** Properties of a message published without options (shared, never mutated). */
export const EMPTY_PROPERTIES: MessageProperties = Object.freeze({});
export const PERSISTENT_PROPERTIES: MessageProperties = Object.freeze({ deliveryMode: 2 });

const STRING_PROPS = ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'userId', 'appId'] as const;

/**
 * Turns amqplib-style publish options into the message's properties, validating each: a bad
 * value is a PRECONDITION_FAILED error before anything is routed. CC is kept as a header (as
 * RabbitMQ does); BCC never reaches consumers.
 */
export function buildProperties(options: PublishOptions): MessageProperties {
  const persistent = options.persistent === true || options.deliveryMode === 2;
  let plain = true;
  for (const key in options) {
    if (key !== 'persistent' && key !== 'mandatory' && key !== 'deliveryMode' && (options as Record<string, unknown>)[key] !== undefined) {
      plain = false;
      break;
    }
  }
  if (plain) return persistent ? PERSISTENT_PROPERTIES : EMPTY_PROPERTIES;

  const props: MessageProperties = {};
  for (const key of STRING_PROPS) {
    const v = options[key];
    if (v !== undefined) props[key] = checkShortString(`property ${key}`, v);
  }
  if (options.headers !== undefined) props.headers = checkFieldTable('headers', options.headers);
  if (persistent) props.deliveryMode = 2;
  else if (options.deliveryMode !== undefined) {
    if (options.deliveryMode !== 1) throw AmqpErrors.invalidArg('property deliveryMode', 'must be 1 or 2', { argument: 'deliveryMode' });
    props.deliveryMode = 1;
  }
  if (options.priority !== undefined) {
    if (!Number.isInteger(options.priority) || options.priority < 0 || options.priority > 255) {
      throw AmqpErrors.invalidArg('property priority', 'must be an integer in [0, 255]', { argument: 'priority' });
    }
    props.priority = options.priority;
  }
  if (options.timestamp !== undefined) {
    if (typeof options.timestamp !== 'number' || !Number.isFinite(options.timestamp)) {
      throw AmqpErrors.invalidArg('property timestamp', 'must be a finite number', { argument: 'timestamp' });
    }
    props.timestamp = options.timestamp;
  }
  if (options.expiration !== undefined) props.expiration = String(parseExpiration(options.expiration));
  if (options.CC !== undefined) {
    props.headers = { ...props.headers, CC: routingKeyList('CC', options.CC) };
  }
  if (options.BCC !== undefined) routingKeyList('BCC', options.BCC);
  return props;
}

/** Milliseconds from an `expiration` value (non-negative integer, number or decimal string). */
export function parseExpiration(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1) {
    throw AmqpErrors.invalidArg('property expiration', `must be a non-negative integer of milliseconds, got ${describeValue(v)}`, { argument: 'expiration' });
  }
  return n;
}

export function routingKeyList(what: string, v: string | string[]): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw AmqpErrors.invalidArg(what, 'must be a string or an array of strings', { argument: what });
  return list.map((k) => checkShortString(`${what} routing key`, k));
}

/** The per-message TTL in ms, or -1. */
export function ttlOf(props: MessageProperties): number {
  return props.expiration === undefined ? -1 : Number(props.expiration);
}
