/**
 * (target, message id) -> the deliveries of that message to that target, in order.
 *
 * Message ids are interned once to small integers (`IdTable`); per target, typed arrays indexed
 * by that integer hold the first and last delivery, and one array over all deliveries links
 * each to the next of the same (target, id). No per-pair object, array or key string is made
 * while indexing, which kept a million-operation history busy in the garbage collector and in
 * large nested Maps.
 */

/** Interns message ids: each distinct id gets the next integer. */
export class IdTable {
  private readonly nums = new Map<string, number>();
  readonly ids: string[] = [];

  intern(id: string): number {
    let n = this.nums.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.nums.set(id, n);
      this.ids.push(id);
    }
    return n;
  }

  lookup(id: string): number | undefined {
    return this.nums.get(id);
  }

  get size(): number {
    return this.ids.length;
  }
}

function grown(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  let n = Math.max(16, a.length * 2);
  while (n < need) n *= 2;
  const b = new Int32Array(n).fill(-1);
  b.set(a);
  return b;
}

interface PerTarget {
  first: Int32Array;
  last: Int32Array;
  count: Int32Array;
}

export class TargetIdIndex {
  private readonly byTarget = new Map<string, PerTarget>();
  /** delivery seq -> next delivery seq of the same (target, id), or -1. */
  private next: Int32Array = new Int32Array(0);
  /** Reused by `each` (callers must not keep it). */
  private readonly scratch: number[] = [];

  constructor(private readonly table: IdTable) {}

  private row(target: string): PerTarget {
    let r = this.byTarget.get(target);
    if (!r) this.byTarget.set(target, (r = { first: new Int32Array(0), last: new Int32Array(0), count: new Int32Array(0) }));
    return r;
  }

  /** Appends delivery `seq` (seqs are pushed in increasing order) of id number `num` to `target`. */
  push(target: string, num: number, seq: number): void {
    const r = this.row(target);
    if (num >= r.first.length) {
      r.first = grown(r.first, num + 1);
      r.last = grown(r.last, num + 1);
      const c = new Int32Array(r.first.length);
      c.set(r.count);
      r.count = c;
    }
    this.next = grown(this.next, seq + 1);
    const last = r.last[num]!;
    if (last < 0) r.first[num] = seq;
    else this.next[last] = seq;
    r.last[num] = seq;
    r.count[num]!++;
  }

  /** The first delivery seq of id number `num` to `target`, or -1. */
  first(target: string, num: number): number {
    const r = this.byTarget.get(target);
    return r && num < r.first.length ? r.first[num]! : -1;
  }

  has(target: string, id: string): boolean {
    const num = this.table.lookup(id);
    return num !== undefined && this.first(target, num) >= 0;
  }

  /** The delivery seqs of `id` to `target` in order (a new array), or undefined. */
  get(target: string, id: string): number[] | undefined {
    const num = this.table.lookup(id);
    if (num === undefined) return undefined;
    let q = this.first(target, num);
    if (q < 0) return undefined;
    const out: number[] = [];
    for (; q >= 0; q = this.next[q]!) out.push(q);
    return out;
  }

  /** Calls `fn` with every (target, id)'s delivery seqs; the array is reused between calls. */
  each(fn: (seqs: readonly number[]) => void): void {
    const s = this.scratch;
    for (const r of this.byTarget.values()) {
      const first = r.first;
      for (let num = 0; num < first.length; num++) {
        let q = first[num]!;
        if (q < 0) continue;
        s.length = 0;
        for (; q >= 0; q = this.next[q]!) s.push(q);
        fn(s);
      }
    }
  }

  /** Calls `fn` only for (target, id) pairs delivered more than `min` times. */
  eachMoreThan(min: number, fn: (seqs: readonly number[]) => void): void {
    const s = this.scratch;
    for (const r of this.byTarget.values()) {
      const first = r.first;
      const count = r.count;
      for (let num = 0; num < first.length; num++) {
        if (count[num]! <= min) continue;
        s.length = 0;
        for (let q = first[num]!; q >= 0; q = this.next[q]!) s.push(q);
        fn(s);
      }
    }
  }
}
