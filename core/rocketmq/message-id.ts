import { describeValue } from '../errors';
import { RocketErrors } from './errors';

/**
 * RocketMQ's offset message id: 16 bytes, hex upper case — the broker's IPv4 address (4),
 * port (4) and the message's CommitLog offset (8) — so the id alone locates the message.
 */
export function addressPrefix(storeHost: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/.exec(storeHost);
  if (!m) throw RocketErrors.invalid('broker address', `an IPv4 host:port (got ${describeValue(storeHost)})`);
  const ip = [m[1], m[2], m[3], m[4]].map((p) => Number(p).toString(16).toUpperCase().padStart(2, '0')).join('');
  return ip + Number(m[5]).toString(16).toUpperCase().padStart(8, '0');
}

export function createMessageId(prefix: string, commitLogOffset: number): string {
  return prefix + commitLogOffset.toString(16).toUpperCase().padStart(16, '0');
}

export interface DecodedMessageId {
  storeHost: string;
  commitLogOffset: number;
}

export function decodeMessageId(msgId: unknown): DecodedMessageId {
  if (typeof msgId !== 'string' || !/^[0-9A-Fa-f]{32}$/.test(msgId)) {
    throw RocketErrors.messageIllegal(`msgId ${describeValue(msgId).slice(0, 80)} is not 32 hex digits (IPv4 + port + CommitLog offset)`, { msgId });
  }
  const ip = [0, 2, 4, 6].map((i) => parseInt(msgId.slice(i, i + 2), 16)).join('.');
  const port = parseInt(msgId.slice(8, 16), 16);
  const offset = parseInt(msgId.slice(16, 32), 16);
  if (!Number.isSafeInteger(offset)) throw RocketErrors.queryNotFound(`msgId ${msgId}`, { msgId });
  return { storeHost: `${ip}:${port}`, commitLogOffset: offset };
}
