import { MqlabError } from '../errors';
import { describeValue } from '../describe-value';

/**
 * AMQP 0-9-1 reply codes, by the reply text RabbitMQ sends. Errors raised by the engine carry
 * the text as `code` and the number as `details.replyCode`, so an amqplib user recognises them
 * ("NOT_FOUND - no queue 'q' in vhost '/'").
 */
export const ReplyCodes = {
  NO_ROUTE: 312,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  COMMAND_INVALID: 503,
  CHANNEL_ERROR: 504,
  NOT_ALLOWED: 530,
} as const;

export type ReplyText = keyof typeof ReplyCodes;

export function amqpError(text: ReplyText, message: string, details?: Record<string, unknown>): MqlabError {
  return new MqlabError(text, `${text} - ${message}`, { replyCode: ReplyCodes[text], ...details });
}

/** The one vhost the engine has; named in messages the way RabbitMQ names it. */
export const VHOST = '/';

export const AmqpErrors = {
  noExchange: (name: string) => amqpError('NOT_FOUND', `no exchange '${name}' in vhost '${VHOST}'`, { exchange: name }),
  noQueue: (name: string) => amqpError('NOT_FOUND', `no queue '${name}' in vhost '${VHOST}'`, { queue: name }),
  unknownDeliveryTag: (tag: number) => amqpError('PRECONDITION_FAILED', `unknown delivery tag ${tag}`, { deliveryTag: tag }),
  inequivalent: (kind: 'queue' | 'exchange', name: string, arg: string, received: unknown, current: unknown) =>
    amqpError(
      'PRECONDITION_FAILED',
      `inequivalent arg '${arg}' for ${kind} '${name}' in vhost '${VHOST}': received ${show(received)} but current is ${show(current)}`,
      { [kind]: name, argument: arg },
    ),
  invalidArg: (what: string, why: string, details?: Record<string, unknown>) =>
    amqpError('PRECONDITION_FAILED', `invalid ${what}: ${why}`, details),
  channelClosed: (id: number) => amqpError('CHANNEL_ERROR', `channel ${id} is closed`, { channel: id }),
  /** waitForConfirms() after a queue refused a message (x-overflow reject-publish). */
  publishNacked: () => amqpError('PRECONDITION_FAILED', 'a message was nacked by the broker (x-overflow reject-publish)'),
};

function show(v: unknown): string {
  if (v === undefined) return 'none';
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return describeValue(v);
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)).slice(0, 200);
  } catch {
    return describeValue(v);
  }
}
