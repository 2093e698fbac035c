import type { StoredMessage } from './message';
import type { DeadLetterReason, FieldTable, MessageProperties, XDeathEntry } from './types';

/**
 * The x-death header RabbitMQ puts on a dead-lettered copy: one entry per (queue, reason), most
 * recent first, each counting how often the message died there. The first dead-lettering also
 * sets x-first-death-queue / -reason / -exchange, and every one sets x-last-death-*. A
 * per-message `expiration` is removed from the copy (so it cannot expire again on the way) and
 * kept as `original-expiration`.
 */
export function buildDeathHeaders(
  message: StoredMessage,
  queue: string,
  reason: DeadLetterReason,
  timeSec: number,
): { properties: MessageProperties; deaths: XDeathEntry[] } {
  const old = message.properties;
  const headers: FieldTable = { ...old.headers };
  const previous = Array.isArray(headers['x-death']) ? (headers['x-death'] as unknown as XDeathEntry[]) : [];
  const deaths = previous.map((d) => ({ ...d, 'routing-keys': [...d['routing-keys']] }));
  const i = deaths.findIndex((d) => d.queue === queue && d.reason === reason);
  let entry: XDeathEntry;
  if (i >= 0) {
    entry = deaths.splice(i, 1)[0]!;
    entry.count += 1;
  } else {
    const cc = headers['CC'];
    entry = {
      count: 1,
      reason,
      queue,
      time: timeSec,
      exchange: message.exchange,
      'routing-keys': [message.routingKey, ...(Array.isArray(cc) ? (cc as string[]) : [])],
    };
    if (old.expiration !== undefined) entry['original-expiration'] = old.expiration;
  }
  deaths.unshift(entry);
  headers['x-death'] = deaths as unknown as FieldTable[];
  if (headers['x-first-death-queue'] === undefined) {
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-reason'] = reason;
    headers['x-first-death-exchange'] = message.exchange;
  }
  headers['x-last-death-queue'] = queue;
  headers['x-last-death-reason'] = reason;
  headers['x-last-death-exchange'] = message.exchange;
  const properties: MessageProperties = { ...old, headers };
  delete properties.expiration;
  return { properties, deaths };
}
