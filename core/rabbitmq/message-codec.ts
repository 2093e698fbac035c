import { Packr } from 'msgpackr';
import type { MessageProperties } from './types';

/**
 * Layout of one persistent message in a durable queue's log (the storage core frames and
 * checksums the record; this is its payload):
 *
 *   +------------+---------------------------------------------------+-----------------+
 *   | metaLen u32| meta: msgpack [storeSeq, order, exchange,         | content (bytes) |
 *   |   (LE)     |        routingKey, properties, expiresAt|null]     |                 |
 *   +------------+---------------------------------------------------+-----------------+
 *
 * `storeSeq` is the message's slot in the queue's ack index; `order` its position in the queue
 * (so requeued messages keep their place after a restart); `expiresAt` its absolute TTL expiry.
 */
const packr = new Packr({ useRecords: false, moreTypes: true });

export interface DecodedMessage {
  storeSeq: number;
  order: number;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  expiresAt: number;
  content: Buffer;
}

export function encodeMessage(
  storeSeq: number,
  order: number,
  exchange: string,
  routingKey: string,
  properties: MessageProperties,
  expiresAt: number,
  content: Buffer,
): Buffer {
  const meta = packr.pack([storeSeq, order, exchange, routingKey, properties, expiresAt === Infinity ? null : expiresAt]);
  const out = Buffer.allocUnsafe(4 + meta.length + content.length);
  out.writeUInt32LE(meta.length, 0);
  meta.copy(out, 4);
  content.copy(out, 4 + meta.length);
  return out;
}

export function decodeMessage(payload: Buffer): DecodedMessage {
  const metaLen = payload.readUInt32LE(0);
  const meta = packr.unpack(payload.subarray(4, 4 + metaLen)) as [number, number, string, string, MessageProperties, number | null];
  return {
    storeSeq: meta[0],
    order: meta[1],
    exchange: meta[2],
    routingKey: meta[3],
    properties: meta[4] ?? {},
    expiresAt: meta[5] ?? Infinity,
    // Copy: the record's buffer may be a view into a mapped segment.
    content: Buffer.from(payload.subarray(4 + metaLen)),
  };
}
