import { AmqpErrors } from './amqp-errors';
import type { FieldTable, FieldValue } from './types';

/**
 * Headers-exchange bindings. `x-match` is `all` (default), `any`, `all-with-x` or `any-with-x`.
 * Binding keys starting with `x-` take no part in matching unless the mode ends in `-with-x`
 * (RabbitMQ 3.10+). A binding value of null/undefined (AMQP void) matches on presence only.
 */
export type XMatch = 'all' | 'any' | 'all-with-x' | 'any-with-x';

export class HeadersMatcher {
  readonly mode: XMatch;
  private readonly entries: Array<[string, FieldValue]>;

  constructor(args: FieldTable | undefined) {
    const raw = args?.['x-match'];
    if (raw !== undefined && raw !== 'all' && raw !== 'any' && raw !== 'all-with-x' && raw !== 'any-with-x') {
      throw AmqpErrors.invalidArg("binding argument 'x-match'", `expected all, any, all-with-x or any-with-x, got ${JSON.stringify(raw)}`, {
        argument: 'x-match',
      });
    }
    this.mode = raw ?? 'all';
    const withX = this.mode.endsWith('-with-x');
    this.entries = Object.entries(args ?? {}).filter(([k]) => k !== 'x-match' && (withX || !k.startsWith('x-')));
  }

  matches(headers: FieldTable | undefined): boolean {
    const any = this.mode === 'any' || this.mode === 'any-with-x';
    if (this.entries.length === 0) return !any;
    const h = headers ?? {};
    for (const [key, want] of this.entries) {
      const ok = Object.prototype.hasOwnProperty.call(h, key) && (want === null || want === undefined || sameValue(want, h[key]));
      if (any && ok) return true;
      if (!any && !ok) return false;
    }
    return !any;
  }
}

function sameValue(a: FieldValue, b: FieldValue): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b) && a === BigInt(b);
  if (typeof a === 'number' && typeof b === 'bigint') return Number.isInteger(a) && BigInt(a) === b;
  return false;
}
