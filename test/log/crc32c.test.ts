import t from 'tap';
import fc from 'fast-check';
import { nativeAddon } from '../../core/log/native';

t.test('CRC32C matches the standard check values', (t) => {
  const a = nativeAddon();
  for (const crc of [a.crc32c, a.crc32cPortable]) {
    t.equal(crc(Buffer.from('123456789')), 0xe3069283, 'RFC 3720 / iSCSI check value');
    t.equal(crc(Buffer.alloc(32, 0)), 0x8a9136aa, '32 zero bytes (RFC 3720 B.4)');
    t.equal(crc(Buffer.alloc(32, 0xff)), 0x62a8ab43, '32 0xff bytes (RFC 3720 B.4)');
    t.equal(crc(new Uint8Array(0)), 0);
  }
  t.comment(`hardware CRC32C (SSE4.2): ${a.crc32cHardware}`);
  t.end();
});

t.test('the hardware and table implementations agree on any input', (t) => {
  const a = nativeAddon();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), fc.nat(7), (bytes, skip) => {
    const view = bytes.subarray(Math.min(skip, bytes.length)); // unaligned starts too
    return a.crc32c(view) === a.crc32cPortable(view);
  }), { numRuns: 2000 });
  t.end();
});

t.test('the frame checksum (three interleaved streams on long payloads) equals CRC32C of length word + timestamp + payload', (t) => {
  const a = nativeAddon();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(), fc.nat(2 ** 40), (payload, w, ts) => {
    const head = Buffer.alloc(12);
    head.writeUInt32LE(w >>> 0, 0);
    head.writeBigInt64LE(BigInt(ts), 4);
    return a.crc32cFrame(w >>> 0, ts, payload) === a.crc32cPortable(Buffer.concat([head, payload]));
  }), { numRuns: 1000 });
  for (const n of [767, 768, 769, 1535, 1536, 2304, 4096]) {
    const p = Buffer.alloc(n, 0x5a);
    t.equal(a.crc32c(p), a.crc32cPortable(p), `length ${n}`);
  }
  t.end();
});
