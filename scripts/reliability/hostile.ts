/** fast-check arbitraries for hostile arguments: wrong types, huge and negative numbers, NaN, odd buffers. */
import fc from 'fast-check';

const MiB = 1024 * 1024;

/** A Uint8Array whose ArrayBuffer has been transferred away (length 0, no backing store). */
function detached(): Uint8Array {
  const b = new Uint8Array(16);
  structuredClone(b.buffer, { transfer: [b.buffer] });
  return b;
}

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -1, -0, 0, 1, 0.5, -0.5, 7, 8, 4095, 4096, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
    2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, Number.MAX_VALUE, Number.MIN_VALUE, -(2 ** 53), 16 * MiB, 16 * MiB - 1),
  fc.integer({ min: -1000, max: 100000 }),
  fc.double(),
);

export const hostileBytes: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.constantFrom<unknown>(
    Buffer.alloc(0), new Uint8Array(17 * MiB), new Uint8Array(4 * MiB + 1), new Uint16Array(8), new Int8Array(8), new Float64Array(3),
    new DataView(new ArrayBuffer(8)), new ArrayBuffer(8), new Uint8Array(new SharedArrayBuffer(64)), new Uint8ClampedArray(8), 'text', [1, 2, 3],
  ),
  fc.constant(null).map(() => detached()),
);

export const hostileString: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '.', '..', '../x', '/', '/etc/passwd', 'a/b', 'a\0b', '\0', 'x'.repeat(300), 'x'.repeat(5000), '%2e%2e', 'CON', '\uD800', 'é/ü'),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileNumber },
  { weight: 2, arbitrary: hostileBytes },
  { weight: 2, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, true, false, 10n, Symbol('s'), () => 1, [], {}, [new Uint8Array(3), 'x'], new Array(3), new Date(0), /re/) },
);

export const hostileArgs: fc.Arbitrary<unknown[]> = fc.array(hostileValue, { maxLength: 9 });
