/**
 * The record frame as the log stores it and as `readBatchInto` copies it out (drawn in
 * native/frame.h): a 16-byte header -- u32 length word (the payload length in its low 24 bits),
 * u32 CRC32C, i64 timestamp in ms -- then the payload, padded to 8 bytes. A record's `next`
 * position is its position plus its frame size; the records of one append call are contiguous.
 * What a model that parses `readBatchInto` output, or computes the positions of a batch, relies on.
 */
export const FRAME_HEADER_BYTES = 16;

/** Bytes a record of `payloadLength` takes in the log, header and padding included. */
export function frameBytes(payloadLength: number): number {
  return (FRAME_HEADER_BYTES + payloadLength + 7) & ~7;
}

/** Payload length of the frame at `offset` of `frames`. */
export function framePayloadLength(frames: Buffer, offset: number): number {
  return frames.readUInt32LE(offset) & 0xffffff;
}

/** Timestamp (ms) of the frame at `offset` of `frames`. */
export function frameTimestamp(frames: Buffer, offset: number): number {
  return frames.readUInt32LE(offset + 8) + frames.readInt32LE(offset + 12) * 4294967296;
}
