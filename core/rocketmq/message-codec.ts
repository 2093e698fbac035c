import { PROPERTY_KEYS, PROPERTY_TAGS } from './constants';
import type { MessageExt } from './message';
import { createMessageId } from './message-id';
import { RocketErrors } from './errors';

/**
 * How one message is laid out in the CommitLog payload (the storage core adds its own frame:
 * length, CRC, timestamp = the store timestamp). Little endian.
 *
 *   0        4         6          7         8              16           24              32      36              40        44         48
 *   ┌────────┬─────────┬──────────┬─────────┬──────────────┬────────────┬───────────────┬───────┬───────────────┬─────────┬──────────┬───────┬───────┬──────┐
 *   │magic u32│queueId │topicLen  │sysFlag  │queueOffset   │tagsCode    │bornTimestamp  │flag   │reconsumeTimes │bodyLen  │propsLen  │topic  │props  │body  │
 *   │DAA320A7│u16      │u8        │u8       │f64           │f64         │f64            │u32    │u32            │u32      │u32       │latin1 │utf-8  │bytes │
 *   └────────┴─────────┴──────────┴─────────┴──────────────┴────────────┴───────────────┴───────┴───────────────┴─────────┴──────────┴───────┴───────┴──────┘
 *
 * `tagsCode` is the tag hash (Java String.hashCode) — or, for SCHEDULE_TOPIC_XXXX, the time the
 * message is due — copied into the ConsumeQueue entry by the dispatcher without parsing
 * properties. Properties are `name \x01 value \x02` pairs, as RocketMQ writes them.
 */
export const MESSAGE_MAGIC = 0xdaa320a7;
export const HEADER_BYTES = 48;
/** sysFlag bit: the KEYS property is set (the dispatcher indexes the message by key). */
export const SYSFLAG_HAS_KEYS = 1;

const NAME_VALUE_SEPARATOR = '\u0001';
const PROPERTY_SEPARATOR = '\u0002';

export function propertiesToString(props: Readonly<Record<string, string>> | undefined): string {
  if (props === undefined) return '';
  let s = '';
  for (const name in props) s += name + NAME_VALUE_SEPARATOR + props[name] + PROPERTY_SEPARATOR;
  return s;
}

export function stringToProperties(s: string): Record<string, string> {
  const props: Record<string, string> = {};
  if (s.length === 0) return props;
  for (const item of s.split(PROPERTY_SEPARATOR)) {
    if (item.length === 0) continue;
    const i = item.indexOf(NAME_VALUE_SEPARATOR);
    if (i > 0) props[item.slice(0, i)] = item.slice(i + 1);
  }
  return props;
}

export function checkPropertyText(name: string, value: string): void {
  if (name.length === 0 || name.includes(NAME_VALUE_SEPARATOR) || name.includes(PROPERTY_SEPARATOR) || value.includes(NAME_VALUE_SEPARATOR) || value.includes(PROPERTY_SEPARATOR)) {
    throw RocketErrors.messageIllegal(`message property ${JSON.stringify(name)} must be non-empty and contain no \\u0001 or \\u0002`, { property: name });
  }
}

export interface RecordFields {
  topic: string;
  queueId: number;
  queueOffset: number;
  tagsCode: number;
  bornTimestamp: number;
  flag: number;
  reconsumeTimes: number;
  sysFlag: number;
  props: string;
  propsBytes: number;
  body: Uint8Array;
}

export function encodedSize(topicLength: number, propsBytes: number, bodyLength: number): number {
  return HEADER_BYTES + topicLength + propsBytes + bodyLength;
}

/** Writes one message at `off` of `out`; returns the bytes written. */
export function encodeRecord(out: Buffer, off: number, f: RecordFields): number {
  out.writeUInt32LE(MESSAGE_MAGIC, off);
  out.writeUInt16LE(f.queueId, off + 4);
  out[off + 6] = f.topic.length;
  out[off + 7] = f.sysFlag;
  out.writeDoubleLE(f.queueOffset, off + 8);
  out.writeDoubleLE(f.tagsCode, off + 16);
  out.writeDoubleLE(f.bornTimestamp, off + 24);
  out.writeUInt32LE(f.flag >>> 0, off + 32);
  out.writeUInt32LE(f.reconsumeTimes, off + 36);
  out.writeUInt32LE(f.body.length, off + 40);
  out.writeUInt32LE(f.propsBytes, off + 44);
  let p = off + HEADER_BYTES;
  p += out.write(f.topic, p, 'latin1');
  if (f.propsBytes > 0) p += out.write(f.props, p, 'utf8');
  out.set(f.body, p);
  return p + f.body.length - off;
}

/** encodeRecord's header for a message without tags, keys or properties; body length left to the caller. */
export function encodePlainHeader(out: Buffer, topic: string, queueId: number, queueOffset: number, bornTimestamp: number): void {
  out.writeUInt32LE(MESSAGE_MAGIC, 0);
  out.writeUInt16LE(queueId, 4);
  out[6] = topic.length;
  out[7] = 0;
  out.writeDoubleLE(queueOffset, 8);
  out.writeDoubleLE(0, 16);
  out.writeDoubleLE(bornTimestamp, 24);
  out.writeUInt32LE(0, 32);
  out.writeUInt32LE(0, 36);
  out.writeUInt32LE(0, 40);
  out.writeUInt32LE(0, 44);
  out.write(topic, HEADER_BYTES, 'latin1');
}

/** The fields the dispatcher needs, read without copying the body. */
export interface RecordHeader {
  topic: string;
  queueId: number;
  queueOffset: number;
  tagsCode: number;
  sysFlag: number;
}

export function isMessageRecord(payload: Buffer): boolean {
  return payload.length >= HEADER_BYTES && payload.readUInt32LE(0) === MESSAGE_MAGIC;
}

export function readTopic(payload: Buffer): string {
  return payload.toString('latin1', HEADER_BYTES, HEADER_BYTES + payload[6]!);
}

export function readKeys(payload: Buffer): string | undefined {
  const topicLen = payload[6]!;
  const propsBytes = payload.readUInt32LE(44);
  const props = stringToProperties(payload.toString('utf8', HEADER_BYTES + topicLen, HEADER_BYTES + topicLen + propsBytes));
  return props[PROPERTY_KEYS];
}

export interface DecodedRecord extends RecordFields {
  properties: Record<string, string>;
}

export function decodeRecord(payload: Buffer): DecodedRecord {
  if (!isMessageRecord(payload)) throw RocketErrors.messageIllegal('not a RocketMQ message record (bad magic)');
  const topicLen = payload[6]!;
  const bodyLen = payload.readUInt32LE(40);
  const propsBytes = payload.readUInt32LE(44);
  const propsStart = HEADER_BYTES + topicLen;
  const bodyStart = propsStart + propsBytes;
  const props = propsBytes > 0 ? payload.toString('utf8', propsStart, bodyStart) : '';
  return {
    topic: payload.toString('latin1', HEADER_BYTES, propsStart),
    queueId: payload.readUInt16LE(4),
    queueOffset: payload.readDoubleLE(8),
    tagsCode: payload.readDoubleLE(16),
    bornTimestamp: payload.readDoubleLE(24),
    flag: payload.readUInt32LE(32),
    reconsumeTimes: payload.readUInt32LE(36),
    sysFlag: payload[7]!,
    props,
    propsBytes,
    properties: stringToProperties(props),
    body: payload.subarray(bodyStart, bodyStart + bodyLen),
  };
}

export function tagsOf(props: Record<string, string>): string | undefined {
  return props[PROPERTY_TAGS];
}

/** The MessageExt of a CommitLog record (on the broker, or on a worker that got raw records). */
export function messageFromRecord(payload: Buffer, position: number, storeTimestamp: number, storeSize: number, brokerName: string, storeHost: string, idPrefix: string): MessageExt {
  // Decoded field by field (not through decodeRecord): this runs once per message delivered.
  if (!isMessageRecord(payload)) throw RocketErrors.messageIllegal('not a RocketMQ message record (bad magic)');
  const topicLen = payload[6]!;
  const bodyLen = payload.readUInt32LE(40);
  const propsBytes = payload.readUInt32LE(44);
  const propsStart = HEADER_BYTES + topicLen;
  const bodyStart = propsStart + propsBytes;
  const properties = propsBytes > 0 ? stringToProperties(payload.toString('utf8', propsStart, bodyStart)) : {};
  return {
    msgId: createMessageId(idPrefix, position),
    topic: payload.toString('latin1', HEADER_BYTES, propsStart),
    body: payload.subarray(bodyStart, bodyStart + bodyLen),
    tags: properties[PROPERTY_TAGS],
    keys: properties[PROPERTY_KEYS],
    properties,
    flag: payload.readUInt32LE(32),
    brokerName,
    queueId: payload.readUInt16LE(4),
    queueOffset: payload.readDoubleLE(8),
    commitLogOffset: position,
    storeSize,
    bornTimestamp: payload.readDoubleLE(24),
    storeTimestamp,
    storeHost,
    reconsumeTimes: payload.readUInt32LE(36),
  };
}
