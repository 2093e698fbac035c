import { AmqpErrors } from './amqp-errors';
import { canonical } from './canonical';
import type { AssertQueueOptions, FieldTable } from './types';
import { describeValue } from '../describe-value';
import { checkFieldTable } from './validate';

/**
 * The `x-` arguments of a queue declaration that the engine acts on. amqplib's named options
 * (messageTtl, deadLetterExchange, …) are folded into `arguments` first, as amqplib does, so a
 * declaration through either spelling is the same declaration. Other `x-` arguments are kept
 * (and compared on redeclaration) but have no effect.
 */
export interface QueueArguments {
  messageTtl?: number;
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  deliveryLimit?: number;
  maxLength?: number;
  overflow: 'drop-head' | 'reject-publish';
  queueType: 'classic' | 'quorum';
}

/** Arguments whose value RabbitMQ compares when a queue is declared again. */
const COMPARED = ['x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-delivery-limit', 'x-max-length', 'x-overflow', 'x-queue-type', 'x-expires', 'x-max-priority'];

export function mergeQueueOptions(options: AssertQueueOptions | undefined): FieldTable {
  const args: FieldTable = { ...(options?.arguments ? checkFieldTable('arguments', options.arguments) : {}) };
  if (options?.messageTtl !== undefined) args['x-message-ttl'] = options.messageTtl;
  if (options?.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = options.deadLetterExchange;
  if (options?.deadLetterRoutingKey !== undefined) args['x-dead-letter-routing-key'] = options.deadLetterRoutingKey;
  if (options?.maxLength !== undefined) args['x-max-length'] = options.maxLength;
  if (options?.deliveryLimit !== undefined) args['x-delivery-limit'] = options.deliveryLimit;
  return args;
}

export function parseQueueArguments(queue: string, args: FieldTable): QueueArguments {
  const out: QueueArguments = { overflow: 'drop-head', queueType: 'classic' };
  const int = (key: string): number | undefined => {
    const v = args[key];
    if (v === undefined) return undefined;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1) {
      throw AmqpErrors.invalidArg(`arg '${key}'`, `expected a non-negative integer for queue '${queue}', got ${describeValue(v)}`, { queue, argument: key });
    }
    return n;
  };
  const str = (key: string): string | undefined => {
    const v = args[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw AmqpErrors.invalidArg(`arg '${key}'`, `expected a string for queue '${queue}'`, { queue, argument: key });
    return v;
  };
  const ttl = int('x-message-ttl');
  if (ttl !== undefined) out.messageTtl = ttl;
  const dlx = str('x-dead-letter-exchange');
  if (dlx !== undefined) out.deadLetterExchange = dlx;
  const dlrk = str('x-dead-letter-routing-key');
  if (dlrk !== undefined) {
    if (dlx === undefined) throw AmqpErrors.invalidArg("arg 'x-dead-letter-routing-key'", 'requires x-dead-letter-exchange', { queue, argument: 'x-dead-letter-routing-key' });
    out.deadLetterRoutingKey = dlrk;
  }
  const limit = int('x-delivery-limit');
  if (limit !== undefined) out.deliveryLimit = limit;
  const maxLength = int('x-max-length');
  if (maxLength !== undefined) out.maxLength = maxLength;
  const overflow = str('x-overflow');
  if (overflow !== undefined) {
    if (overflow !== 'drop-head' && overflow !== 'reject-publish') {
      throw AmqpErrors.invalidArg("arg 'x-overflow'", `expected drop-head or reject-publish, got '${overflow}'`, { queue, argument: 'x-overflow' });
    }
    out.overflow = overflow;
  }
  const type = str('x-queue-type');
  if (type !== undefined) {
    if (type !== 'classic' && type !== 'quorum') {
      throw AmqpErrors.invalidArg("arg 'x-queue-type'", `expected classic or quorum, got '${type}'`, { queue, argument: 'x-queue-type' });
    }
    out.queueType = type;
  }
  return out;
}

/** The first compared argument whose value differs, or undefined when equivalent. */
export function firstDifference(current: FieldTable, received: FieldTable): { key: string; current: unknown; received: unknown } | undefined {
  for (const key of COMPARED) {
    if (canonical(current[key]) !== canonical(received[key])) return { key, current: current[key], received: received[key] };
  }
  return undefined;
}
